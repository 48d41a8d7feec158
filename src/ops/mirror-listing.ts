import type { MirrorLayout } from '../mirror/keys';
import { byText } from './text';

/** One published or exposed port of a mirrored container, as its `network/ports/<port>-<proto>/` keys say. */
export interface ListedPort {
  port: string;
  proto: string;
  /** "" when unpublished. */
  extPort: string;
  extIp: string;
}

/** One container of a host's mirror data, read back from its keys (`registrator ls`). */
export interface ListedContainer {
  id: string;
  /** null where etcd holds no such key (an id listed under hosts/ whose entry is gone or another host's). */
  name: string | null;
  image: string | null;
  state: string | null;
  created: string | null;
  ip: string | null;
  labels: Record<string, string>;
  ports: ListedPort[];
  /** Every key etcd holds for it (entry, hosts/ key, labels/ index keys) and its value, sorted by key. */
  keys: Record<string, string>;
}

function byKey<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => byText(a, b)));
}

/** A container's mirror keys, as etcd holds them, read back into fields (docs/mirror.md, "Key layout"). Pure. */
export function listContainer(id: string, keys: ReadonlyMap<string, string>, layout: MirrorLayout): ListedContainer {
  const base = layout.container(id);
  const field = (name: string): string | null => keys.get(`${base}${name}`) ?? null;
  const labels = new Map<string, string>();
  const ports = new Map<string, ListedPort>();
  for (const [key, value] of keys) {
    if (!key.startsWith(base)) continue;
    const rest = key.slice(base.length);
    if (rest.startsWith('labels/')) labels.set(rest.slice('labels/'.length), value);
    const port = /^network\/ports\/([^/]+)-([^/-]+)\/(intPort|extPort|extIp|proto)$/.exec(rest);
    if (!port) continue;
    const spec = `${port[1]}/${port[2]}`;
    const entry = ports.get(spec) ?? { port: port[1], proto: port[2], extPort: '', extIp: '' };
    if (port[3] === 'extPort' || port[3] === 'extIp') entry[port[3]] = value;
    ports.set(spec, entry);
  }
  return {
    id,
    // Without an entry, the name its hosts/<host>/<name> key gives.
    name:
      field('name') ??
      [...keys]
        .find(([k, v]) => k.startsWith(layout.hostsPrefix) && v === id)?.[0]
        .slice(layout.hostsPrefix.length)
        .split('/')
        .slice(1)
        .join('/') ??
      null,
    image: field('image'),
    state: field('state'),
    created: field('created'),
    ip: field('network/ip'),
    labels: byKey(labels),
    ports: [...ports.values()].sort((a, b) => Number(a.port) - Number(b.port) || byText(a.proto, b.proto)),
    keys: byKey(keys),
  };
}
