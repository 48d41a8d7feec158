import type { KeyOp, RevisionGuard } from '../etcd/ops';
import type { Service } from './service';
import type { ServiceAction } from './service-plan';

/** How one etcd-based registry lays a service out. */
export interface KeyLayout {
  /**
   * The prefix under which every service lives as `<root><name>/<id>` (a key, or a tree of keys),
   * e.g. `/services/`. `-cleanup` looks under it for this host's dangling services.
   */
  root: string;
  /**
   * Every key and value of one service, e.g. `/services/web/node1:web:80` = `10.0.0.5:8080`. The
   * first is the service's guard: every registration writes it, so its revision tells whether
   * another registration has written the service since this host did.
   */
  entries(service: Service): Array<[key: string, value: string]>;
  /** When a service is a tree of keys (hamesh), the tree's prefix: deregistration deletes it whole. */
  tree?(service: Service): string;
  /** Why this registry cannot take the service, or undefined when it can. */
  reject?(service: Service): string | undefined;
  /** What is odd about a service it takes (metadata left out), for a warning naming the container. */
  notes?(service: Service): string[];
  /** Prefixes SIGUSR2 purges (every host's data), if this registry is purged at all. */
  purgePrefixes?: string[];
}

/** Where a host's ownership record of a service is filed, and the revision it wrote the service at. */
export interface HeldRecord {
  recordKey: string;
  /** The guard key's revision as this host wrote it; deletions are made only while it still holds. */
  revision: string;
}

/** This host's ownership records of one registry, as the ops below need them. */
export interface RecordBook {
  /** Where the record of `service` is filed (per container and service, so two containers with one SERVICE_ID never share one). */
  keyOf(service: Service): string;
  /** The record this host holds for the service, if any. */
  held(service: Service): HeldRecord | undefined;
}

/**
 * The puts of one registration: the guard key and the ownership record first (so a transaction
 * split by etcd's limits keeps them together), then the rest of the service's keys. Pure.
 */
export function registerOps(layout: KeyLayout, records: RecordBook, service: Service, lease?: string): KeyOp[] {
  const [guard, ...rest] = layout.entries(service);
  return [
    ...(guard ? [{ put: guard[0], value: guard[1], lease }] : []),
    { put: records.keyOf(service), value: JSON.stringify(service), lease },
    ...rest.map(([key, value]) => ({ put: key, value, lease })),
  ];
}

/**
 * The deletes of one deregistration: the service's keys (its tree, for hamesh) only while the guard
 * key still holds this host's write, and its ownership record in any case. `keep`: keys the same
 * transaction writes again (a changed service), left out so no key is both put and deleted. Pure.
 */
export function deregisterOps(layout: KeyLayout, records: RecordBook, service: Service, keep: ReadonlySet<string> = new Set()): KeyOp[] {
  const held = records.held(service);
  const entries = layout.entries(service);
  // Without a known revision nothing but the record is deleted: revision 0 never matches a key that exists.
  const guard: RevisionGuard | undefined = entries[0] ? { key: entries[0][0], modRevision: held?.revision ?? '0' } : undefined;
  const tree = layout.tree?.(service);
  const ops: KeyOp[] =
    tree && ![...keep].some((k) => k.startsWith(tree))
      ? [{ deletePrefix: tree, ifRevision: guard }]
      : entries.filter(([key]) => !keep.has(key)).map(([key]) => ({ delete: key, ifRevision: guard }));
  const record = held?.recordKey ?? records.keyOf(service);
  if (!keep.has(record)) ops.push({ delete: record });
  return ops;
}

/**
 * What one container's steps commit in a registry: the puts of every service registered or
 * written again, then the guarded deletes of every service deregistered, none of a key the puts
 * write. A record filed by an earlier version under the service ID alone moves to its per-container
 * key. `leased`: under `-ttl` a `refresh` writes nothing (the lease is kept alive instead). Pure.
 */
export function changeOps(
  layout: KeyLayout,
  records: RecordBook,
  actions: readonly ServiceAction[],
  options: { lease?: string; leased?: boolean } = {},
): { puts: KeyOp[]; deletes: KeyOp[] } {
  const writes = actions.filter((a) => a.kind !== 'deregister' && !(a.kind === 'refresh' && options.leased));
  const puts = writes.flatMap((a) => registerOps(layout, records, a.service, options.lease));
  const written = new Set(puts.map((op) => (op as { put: string }).put));
  const deletes = actions.flatMap((a) => (a.kind === 'deregister' ? deregisterOps(layout, records, a.service, written) : []));
  for (const a of writes) {
    const earlier = records.held(a.service);
    if (earlier && earlier.recordKey !== records.keyOf(a.service) && !written.has(earlier.recordKey)) deletes.push({ delete: earlier.recordKey });
  }
  return { puts, deletes };
}
