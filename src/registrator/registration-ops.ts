import type { Etcd3 } from 'etcd3';
import type { KeyOp, RevisionGuard } from '../etcd/key-ops';
import type { Logger } from '../log';
import type { Service, ServiceAction } from './service';

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
  /** Keys of the service that only one service of the registry may hold at a time (hamesh ports): the one hook a layout plugs into the core. */
  claims?: ClaimHook;
}

/**
 * The claims of a registry's services on keys one service at a time may hold, and their judge:
 * what a layout with such keys (src/hamesh/) plugs into the etcd registry core.
 * @public
 */
export interface ClaimHook {
  /** The claims of one service. Pure. */
  of(service: Service): Claim[];
  /**
   * Judges the claims of these services from what etcd holds in their ranges, remembers the lost
   * ones (see `lost`), and says once through `log` who keeps a key several services claim.
   */
  judge(etcd: Etcd3, services: readonly Service[], log?: Logger): Promise<void>;
  /** The claim keys this host's services have lost to another service's claim. */
  readonly lost: ReadonlySet<string>;
}

/**
 * A key that one service of a registry may hold at a time (a hamesh port). Every service that wants
 * it files its claim under `range`; the service whose claim key sorts first writes `entry`, the others
 * do without it. Claims are judged by the layout's ClaimHook from etcd; the ops below take the verdict.
 */
export interface Claim {
  range: string;
  /** This service's claim in the range. */
  key: string;
  /** The key and value the holder writes. */
  entry: [string, string];
  /** For messages, e.g. `SERVICE_EXTERNAL_PORT 5432`. */
  what: string;
}

/** The verdict on claims, as ops take it: the claim keys that lost, and the value a claim is filed with (the host). */
export interface ClaimVerdict {
  lost: ReadonlySet<string>;
  value: string;
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
export function registerOps(layout: KeyLayout, records: RecordBook, service: Service, lease?: string, verdict?: ClaimVerdict): KeyOp[] {
  const [guard, ...rest] = layout.entries(service);
  const ops: KeyOp[] = [
    ...(guard ? [{ put: guard[0], value: guard[1], lease }] : []),
    { put: records.keyOf(service), value: JSON.stringify(service), lease },
    ...rest.map(([key, value]) => ({ put: key, value, lease })),
  ];
  for (const claim of layout.claims?.of(service) ?? []) {
    ops.push({ put: claim.key, value: verdict?.value ?? '', lease });
    if (!verdict?.lost.has(claim.key)) ops.push({ put: claim.entry[0], value: claim.entry[1], lease });
  }
  return ops;
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
  const claims = layout.claims?.of(service) ?? [];
  const whole = tree !== undefined && ![...keep].some((k) => k.startsWith(tree));
  const keys = [...entries.map(([key]) => key), ...claims.map((c) => c.entry[0]), ...claims.map((c) => c.key)];
  const ops: KeyOp[] = [
    ...(whole ? [{ deletePrefix: tree, ifRevision: guard }] : []),
    ...keys.filter((key) => !keep.has(key) && !(whole && key.startsWith(tree))).map((key) => ({ delete: key, ifRevision: guard })),
  ];
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
  options: { lease?: string; leased?: boolean; verdict?: ClaimVerdict } = {},
): { puts: KeyOp[]; deletes: KeyOp[] } {
  const writes = actions.filter((a) => a.kind !== 'deregister' && !(a.kind === 'refresh' && options.leased));
  const puts = writes.flatMap((a) => registerOps(layout, records, a.service, options.lease, options.verdict));
  const written = new Set(puts.map((op) => (op as { put: string }).put));
  const deletes = actions.flatMap((a) => (a.kind === 'deregister' ? deregisterOps(layout, records, a.service, written) : []));
  for (const a of writes) {
    const earlier = records.held(a.service);
    if (earlier && earlier.recordKey !== records.keyOf(a.service) && !written.has(earlier.recordKey))
      deletes.push({ delete: earlier.recordKey });
    // A claimed key this service held and has since lost goes, while its tree is still this host's write.
    const entries = layout.entries(a.service);
    for (const claim of layout.claims?.of(a.service) ?? []) {
      if (earlier && entries[0] && options.verdict?.lost.has(claim.key) && !written.has(claim.entry[0])) {
        deletes.push({ delete: claim.entry[0], ifRevision: { key: entries[0][0], modRevision: earlier.revision } });
      }
    }
  }
  return { puts, deletes };
}
