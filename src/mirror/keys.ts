import { type Container, networkAddress } from '../docker/container';
import { parsePortKey } from '../docker/container-facts';
import { atomicLimitExceeded, ownersPrefix, type KeyOp } from '../etcd/key-ops';

/** Key layout of the mirror (docs/mirror.md, "Key layout"), relative to one prefix such as `/registry`. */
export class MirrorLayout {
  /** e.g. `/registry` */
  readonly root: string;

  constructor(dir: string) {
    this.root = `/${dir.replace(/^\/+|\/+$/g, '')}`;
  }

  get containersPrefix(): string {
    return `${this.root}/containers/`;
  }
  get hostsPrefix(): string {
    return `${this.root}/hosts/`;
  }
  get labelsPrefix(): string {
    return `${this.root}/labels/`;
  }
  /** Everything the mirror owns, every host's (SIGUSR2 purges this). */
  get allPrefix(): string {
    return `${this.root}/`;
  }
  container(id: string): string {
    return `${this.containersPrefix}${id}/`;
  }
  hostEntry(host: string, name: string): string {
    return `${this.hostsPrefix}${host}/${name}`;
  }
  hostPrefix(host: string): string {
    return `${this.hostsPrefix}${host}/`;
  }
  labelEntry(label: string, id: string): string {
    return `${this.labelsPrefix}${label}/${id}`;
  }
  /**
   * `host`'s index of its entries, outside the layout consumers read: `/_registrator/owners/<host>/mirror/<dir>/`.
   * With `hosts/<host>/` it is how a host finds its entries without reading other hosts' (docs/mirror.md).
   */
  ownerIndexPrefix(host: string): string {
    return ownersPrefix(host, `mirror${this.root}`);
  }
  /** One entry's index record, `<ownerIndexPrefix>/<Id>` = the container name. */
  ownerIndexKey(host: string, id: string): string {
    return `${this.ownerIndexPrefix(host)}${id}`;
  }
}

interface PortEntry {
  port: string;
  proto: string;
  extPort: string;
  extIp: string;
}

/**
 * Published and exposed ports: the container's ports, listed or exposed (host-network containers
 * list none); unpublished ones get "" bindings.
 * A spec that is not a port (`abc/tcp`, `80/tcp/x`, `99999/tcp`, `""`) is left out and reported:
 * nothing can reach it, and it would not give a `<port>-<proto>` key of its own.
 */
function mirrorPorts(c: Container): { ports: PortEntry[]; problems: string[] } {
  const byKey = new Map<string, PortEntry>();
  const problems: string[] = [];
  for (const { spec, bindings } of c.ports) {
    // `<port>[/<proto>]` as Docker's CLI writes it: port 0-65535 in at most 5 digits, kept as written.
    const parsed = parsePortKey(spec);
    if (!parsed || parsed.digits.length > 5 || parsed.port > 65535) {
      problems.push(`port ${JSON.stringify(spec)} is not <0-65535>/<protocol>; left out of its entry`);
      continue;
    }
    const { digits: port, proto = 'tcp' } = parsed;
    const first = bindings?.[0];
    const entry = { port, proto, extPort: first?.hostPort ?? '', extIp: first?.hostIp ?? '' };
    // `80` and `80/tcp` are one port: the spelling with a binding wins.
    const key = `${port}-${proto}`;
    if (!byKey.has(key) || first) byKey.set(key, entry);
  }
  return { ports: [...byKey.values()], problems };
}

/** The state value the mirror shows. */
function mirrorState(c: Container): string {
  if (c.state.paused) return 'paused';
  return c.state.status ?? 'running';
}

/**
 * Every key/value the mirror holds for one active container on `host` (docs/mirror.md, "Key layout"). Pure: the
 * writer diffs this against what etcd holds.
 */
export function mirrorEntry(c: Container, host: string, layout: MirrorLayout): Map<string, string> {
  return entryWithPorts(c, host, layout, mirrorPorts(c).ports);
}

/** mirrorEntry with the ports already worked out (wantedEntry needs their problems too). */
function entryWithPorts(c: Container, host: string, layout: MirrorLayout, ports: readonly PortEntry[]): Map<string, string> {
  const id = c.id;
  const base = layout.container(id);
  const name = c.name;
  const keys = new Map<string, string>([
    [`${base}id`, id],
    [`${base}created`, c.created],
    [`${base}state`, mirrorState(c)],
    [`${base}image`, c.image.configured],
    [`${base}name`, name],
    [`${base}host`, host],
    [`${base}network/ip`, networkAddress(c, 'ipv4', 'by-name')],
  ]);
  for (const p of ports) {
    const portBase = `${base}network/ports/${p.port}-${p.proto}/`;
    keys.set(`${portBase}intPort`, p.port);
    keys.set(`${portBase}extPort`, p.extPort);
    keys.set(`${portBase}extIp`, p.extIp);
    keys.set(`${portBase}proto`, p.proto);
  }
  // Label names are used as is (docs/mirror.md, "Key layout"): one key per label, the name being everything after `labels/`.
  for (const [label, value] of Object.entries(c.labels)) {
    keys.set(`${base}labels/${label}`, value);
    keys.set(layout.labelEntry(label, id), value);
  }
  keys.set(layout.hostEntry(host, name), id);
  keys.set(layout.ownerIndexKey(host, id), name);
  return keys;
}

/** What the mirror writes for one active container: its entry, or nothing and why. */
export type WantedEntry = { entry: Map<string, string>; warnings: string[] } | { entry?: undefined; skipped: string; warnings: string[] };

/**
 * The entry of one active container, with what is odd about it (ports left out). A reader must
 * never see half a container, so an entry too large for one etcd transaction is not written at all.
 * Pure.
 */
export function wantedEntry(c: Container, host: string, layout: MirrorLayout): WantedEntry {
  const { ports, problems: warnings } = mirrorPorts(c);
  const entry = entryWithPorts(c, host, layout, ports);
  const reason = atomicLimitExceeded([...entry].map(([put, value]) => ({ put, value })));
  if (reason !== undefined) return { skipped: `its entry is too large for one etcd transaction (${reason})`, warnings };
  return { entry, warnings };
}

/**
 * What the mirror writes for one container (docs/mirror.md, "Key layout"): a put for every key that is missing or holds
 * another value, a delete for every key held but no longer wanted. Pure: the writer commits the
 * result, `registrator diff` shows it.
 *
 * `held` is what this host holds for the container, `wanted` what it should hold (empty when the
 * container is no longer active).
 */
export function planMirror(
  id: string,
  held: ReadonlyMap<string, string>,
  wanted: ReadonlyMap<string, string>,
  layout: MirrorLayout,
): KeyOp[] {
  const ops: KeyOp[] = [];
  for (const [key, value] of wanted) if (held.get(key) !== value) ops.push({ put: key, value });
  for (const key of held.keys()) {
    if (wanted.has(key)) continue;
    // A hosts/<host>/<name> key may already belong to a new container of the same name.
    ops.push(key.startsWith(layout.hostsPrefix) ? { delete: key, ifValue: id } : { delete: key });
  }
  return ops;
}
