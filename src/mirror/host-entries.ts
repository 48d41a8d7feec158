import type { Etcd3 } from 'etcd3';
import { readPrefix } from '../etcd/ops';
import type { MirrorLayout } from './keys';

/**
 * One host's mirror data as etcd holds it, by container id: the `containers/<id>/` entry of every
 * container whose `host` is `host` (or that names no host at all, i.e. a fragment listed under the
 * host), and the `hosts/<host>/<name>` keys naming it. An id listed under `hosts/<host>/` whose entry
 * names another host gets its `hosts/` key only. The fleet-wide `labels/` index is not read.
 */
export async function readHostEntries(etcd: Etcd3, layout: MirrorLayout, host: string): Promise<Map<string, Map<string, string>>> {
  const [containers, hostKeys] = await Promise.all([readPrefix(etcd, layout.containersPrefix), readPrefix(etcd, layout.hostPrefix(host))]);
  const byId = new Map<string, Map<string, string>>();
  const prefixLength = layout.containersPrefix.length;
  for (const [key, value] of containers) {
    const slash = key.indexOf('/', prefixLength);
    if (slash === -1) continue;
    const id = key.slice(prefixLength, slash);
    let entry = byId.get(id);
    if (!entry) byId.set(id, (entry = new Map()));
    entry.set(key, value);
  }
  const mine = new Map<string, Map<string, string>>();
  for (const [id, entry] of byId) {
    if (entry.get(`${layout.container(id)}host`) === host) mine.set(id, new Map(entry));
  }
  for (const [key, id] of hostKeys) {
    let entry = mine.get(id);
    // An id listed under our hosts/ key whose entry names another host: only the hosts/ key is ours.
    if (!entry) mine.set(id, (entry = new Map(ownEntry(layout, host, id, byId.get(id)))));
    entry.set(key, id);
  }
  return mine;
}

/** The entry if it is `host`'s (or names no host at all, i.e. a fragment); empty if another host's. */
export function ownEntry(layout: MirrorLayout, host: string, id: string, entry: ReadonlyMap<string, string> | undefined): ReadonlyMap<string, string> {
  const owner = entry?.get(`${layout.container(id)}host`);
  return entry && (owner === undefined || owner === host) ? entry : new Map();
}

/** The `labels/<label>/<id>` index keys an entry's `labels/*` keys imply, with their values. Pure. */
export function impliedLabelKeys(layout: MirrorLayout, id: string, entry: ReadonlyMap<string, string>): Map<string, string> {
  const labelsBase = `${layout.container(id)}labels/`;
  const index = new Map<string, string>();
  for (const [key, value] of entry) if (key.startsWith(labelsBase)) index.set(layout.labelEntry(key.slice(labelsBase.length), id), value);
  return index;
}
