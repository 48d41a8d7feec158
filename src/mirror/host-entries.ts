import type { Etcd3 } from 'etcd3';
import { FULL_CONTAINER_ID } from '../docker/container-id';
import { readPrefix, readPrefixes, readStoredKeys } from '../etcd/reads';
import type { MirrorLayout } from './keys';

/** What etcd holds of one host's mirror data, by container id, and the index keys that name no container. */
export interface HostEntries {
  /** id -> every key etcd holds that is this host's for that container, and its value. */
  entries: Map<string, Map<string, string>>;
  /** Keys under this host's `hosts/` or index prefixes whose value or name is no container Id (a hand edit). */
  unreadable: string[];
}

/**
 * One host's mirror data as etcd holds it, read from that host's own keys only, never from the
 * fleet's: its index records (`/_registrator/owners/<host>/mirror/<dir>/<id>`) and `hosts/<host>/<name>`
 * keys give the ids (either one suffices, so an entry whose `hosts/` key went missing is still
 * found), then each id's `containers/<id>/` entry is read, and the `labels/<l>/<id>` keys the entry
 * implies. An entry that names another host is not this host's: of that id only the index and
 * `hosts/` keys are. Reads cost what this host holds, whatever the fleet holds.
 */
export async function readHostEntries(etcd: Etcd3, layout: MirrorLayout, host: string): Promise<HostEntries> {
  const indexPrefix = layout.ownerIndexPrefix(host);
  const [index, hostKeys] = await Promise.all([readPrefix(etcd, indexPrefix), readPrefix(etcd, layout.hostPrefix(host))]);
  const entries = new Map<string, Map<string, string>>();
  const unreadable: string[] = [];
  const own = (id: string) => {
    let keys = entries.get(id);
    if (!keys) entries.set(id, (keys = new Map()));
    return keys;
  };
  for (const [key, name] of index) {
    const id = key.slice(indexPrefix.length);
    if (FULL_CONTAINER_ID.test(id)) own(id).set(key, name);
    else unreadable.push(key);
  }
  for (const [key, id] of hostKeys) {
    if (FULL_CONTAINER_ID.test(id)) own(id).set(key, id);
    else unreadable.push(key);
  }
  const stored = await readPrefixes(
    etcd,
    [...entries.keys()].map((id) => layout.container(id)),
  );
  const labelKeys: string[] = [];
  for (const [id, keys] of entries) {
    const entry = ownEntry(layout, host, id, stored.get(layout.container(id)));
    for (const [key, value] of entry) keys.set(key, value);
    labelKeys.push(...impliedLabelKeys(layout, id, entry).keys());
  }
  // The label index as etcd holds it, so a key deleted or changed by hand is written again.
  for (const [key, { value }] of await readStoredKeys(etcd, labelKeys)) entries.get(key.slice(key.lastIndexOf('/') + 1))!.set(key, value);
  return { entries, unreadable };
}

/** The entry if it is `host`'s (or names no host at all, i.e. a fragment); empty if another host's. */
export function ownEntry(
  layout: MirrorLayout,
  host: string,
  id: string,
  entry: ReadonlyMap<string, string> | undefined,
): ReadonlyMap<string, string> {
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
