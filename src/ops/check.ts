import type { Etcd3, IKeyValue } from 'etcd3';
import { prefixPages, readStoredKeys } from '../etcd/reads';
import type { MirrorLayout } from '../mirror/keys';
import { CLAIMS_PREFIX } from '../fleet/claim-record';
import { type ClaimCounts, judgeClaims } from './check-claims';
import type { Finding } from './check-finding';
import { fixFindings, type FixOutcome } from './check-fix';
import { type Kv, MirrorJudge, type MirrorCounts, type MirrorVerdict } from './check-mirror';
import { type CheckedRegistry, type OwnerCounts, OWNERS_PREFIX, OwnersJudge } from './check-owners';
import type { CheckProgress } from './check-progress';
import type { OpsRegistry } from './registries';
import { byText } from './text';

/** Why a consul*:// or netfilter:// URI is not checked; docs/operations.md says the same. */
const NOT_CHECKED = 'not checked: check reads only the etcd-based registries (hamesh, etcd, skydns2)';

/** What `registrator check` looks at, as configured. */
export interface CheckTarget {
  /** The daemon's etcd connection (EC_REGISTRATOR_ETCD_HOSTS). */
  etcd: Etcd3;
  /** How that etcd is named in the report: its endpoints. */
  endpoints: string;
  /** The mirror's layout (`-etcd-dir`); absent with --no-mirror. */
  mirror?: MirrorLayout;
  /** The registry URIs, opened read-only (openRegistries). */
  registries: readonly OpsRegistry[];
}

export interface CheckOptions {
  /** Keys per range request of the passes (default: reads.ts PAGE_KEYS). */
  pageSize?: number;
  /** Told of every pass and page as it is read (check-progress.ts: a line on a terminal's stderr); ended when the check is. */
  progress?: CheckProgress;
}

/** A finding as reported; `fix` only after `--fix`. */
export interface ReportedFinding extends Finding {
  fix?: FixOutcome;
}

/** What was read from one etcd, at one revision, and found there. */
export interface StoreReport {
  /** The daemon's endpoints, or the `host:port` of registry URIs that name their own etcd. */
  etcd: string;
  /** Every page and every read of the check was pinned to this revision. */
  revision: string;
  /** Range requests of the two passes (one per page). */
  pages: number;
  /** null with --no-mirror, and in a registry's own etcd. */
  mirror: (MirrorCounts & { prefix: string }) | null;
  owners: OwnerCounts & { prefix: string };
  /** The host-name claims, read after the two passes (in the daemon's etcd only; null elsewhere). */
  claims: (ClaimCounts & { prefix: string }) | null;
  /** Sorted by key. */
  findings: ReportedFinding[];
}

/** `registrator check --json`. Documented in docs/operations.md. */
export interface CheckReport {
  /** Whether --fix was given. */
  fix: boolean;
  /** The daemon's etcd first, then one per other etcd the registry URIs name. */
  stores: StoreReport[];
  /** Registry URIs whose registries are not kept in etcd. */
  notCovered: Array<{ registry: string; reason: string }>;
  /** Findings over every store. */
  findings: number;
  /** With --fix: findings whose keys were deleted, and those kept because they changed since the check. */
  deleted: number;
  kept: number;
}

/** A check done: the report, and the connection each store was read with (for --fix). */
export interface FleetCheck {
  report: CheckReport;
  clients: Etcd3[];
}

/** One etcd to read: the mirror (in the daemon's etcd) and the registries kept there. */
interface Store {
  client: Etcd3;
  label: string;
  /** The daemon's own etcd, where the host-name claims are. */
  main: boolean;
  mirror?: MirrorLayout;
  registries: CheckedRegistry[];
}

function storesOf(target: CheckTarget): Store[] {
  const main: Store = { client: target.etcd, label: target.endpoints, main: true, mirror: target.mirror, registries: [] };
  // Ownership records are kept in the registry's own etcd: a URI with a host:port is read there.
  const others = new Map<string, Store>();
  for (const registry of target.registries) {
    if (!('backend' in registry)) continue;
    const { backend, uri } = registry;
    const checked: CheckedRegistry = { registry: uri.raw, scope: backend.scope, keysOf: (s) => backend.keysOf(s) };
    if (uri.authority === '') {
      main.registries.push(checked);
      continue;
    }
    let store = others.get(uri.authority);
    if (!store) others.set(uri.authority, (store = { client: backend.etcd, label: uri.authority, main: false, registries: [] }));
    store.registries.push(checked);
  }
  return [...(main.mirror || main.registries.length > 0 ? [main] : []), ...others.values()];
}

const strings = (kvs: readonly IKeyValue[]): Kv[] => kvs.map((kv) => [kv.key.toString(), kv.value.toString()]);

/** The revision etcd is at now (the header of a read of one key that is not there). */
async function currentRevision(client: Etcd3): Promise<string> {
  return (await client.kv.range({ key: Buffer.from(OWNERS_PREFIX) })).header.revision;
}

/**
 * One etcd, at one revision: a paged pass over the mirror prefix, then one over the ownership
 * records, each page judged as it arrives; the service keys a page of registry records names are
 * read in batches at the same revision. What is kept is the entries' summary and the findings.
 */
async function checkStore(store: Store, options: CheckOptions): Promise<StoreReport> {
  const revision = await currentRevision(store.client);
  const read = { pageSize: options.pageSize, revision };
  const progress = options.progress;
  let pages = 0;
  let verdict: MirrorVerdict | undefined;
  if (store.mirror) {
    const judge = new MirrorJudge(store.mirror);
    progress?.pass(store.label, store.mirror.allPrefix);
    for await (const page of prefixPages(store.client, store.mirror.allPrefix, read)) {
      pages++;
      judge.page(strings(page.kvs));
      progress?.page(page.kvs.length);
    }
    verdict = judge.finish();
  }
  const owners = new OwnersJudge({
    mirror: store.mirror && verdict ? { layout: store.mirror, verdict } : undefined,
    registries: store.registries,
  });
  progress?.pass(store.label, OWNERS_PREFIX);
  for await (const page of prefixPages(store.client, OWNERS_PREFIX, read)) {
    pages++;
    const records = owners.read(strings(page.kvs));
    const held = records.serviceKeys.length > 0 ? await readStoredKeys(store.client, records.serviceKeys, revision) : new Map();
    owners.judge(records, new Set(held.keys()));
    progress?.page(page.kvs.length);
  }
  const ownersVerdict = owners.finish();
  const claimed: IKeyValue[] = [];
  if (store.main) {
    progress?.pass(store.label, CLAIMS_PREFIX);
    for await (const page of prefixPages(store.client, CLAIMS_PREFIX, read)) {
      claimed.push(...page.kvs);
      progress?.page(page.kvs.length);
    }
  }
  const claims = judgeClaims(claimed);
  const findings = [...(verdict?.findings ?? []), ...ownersVerdict.findings, ...claims.findings].sort((a, b) => byText(a.key, b.key));
  return {
    etcd: store.label,
    revision,
    pages,
    mirror: store.mirror && verdict ? { prefix: store.mirror.allPrefix, ...verdict.counts } : null,
    owners: { prefix: OWNERS_PREFIX, ...ownersVerdict.counts },
    claims: store.main ? { prefix: CLAIMS_PREFIX, ...claims.counts } : null,
    findings,
  };
}

function tally(fix: boolean, stores: StoreReport[], notCovered: CheckReport['notCovered']): CheckReport {
  const findings = stores.flatMap((s) => s.findings);
  return {
    fix,
    stores,
    notCovered,
    findings: findings.length,
    deleted: findings.filter((f) => f.fix === 'deleted').length,
    kept: findings.filter((f) => f.fix === 'kept').length,
  };
}

/**
 * The fleet-wide consistency check (docs/operations.md): reads the whole mirror prefix and every
 * host's ownership records, paged and at one revision per etcd, and reports every index key,
 * entry and record the rest contradicts. Reads only.
 */
export async function checkFleet(target: CheckTarget, options: CheckOptions = {}): Promise<FleetCheck> {
  const stores = storesOf(target);
  const reports: StoreReport[] = [];
  try {
    // One etcd after the other: the point is a bounded load on etcd, not speed.
    for (const store of stores) reports.push(await checkStore(store, options));
  } finally {
    options.progress?.end();
  }
  const notCovered = target.registries.flatMap((r) => ('backend' in r ? [] : [{ registry: r.uri.raw, reason: NOT_CHECKED }]));
  return { report: tally(false, reports, notCovered), clients: stores.map((s) => s.client) };
}

/**
 * `--fix`: deletes each finding's keys in guarded transactions, only while everything it was judged
 * on is unchanged since the check's revision (check-fix.ts). Resolves with the report, each finding
 * marked `deleted` or `kept`.
 */
export async function fixFleet(check: FleetCheck): Promise<CheckReport> {
  const stores: StoreReport[] = [];
  for (const [i, store] of check.report.stores.entries()) {
    const outcomes = await fixFindings(check.clients[i], store.findings, store.revision);
    stores.push({ ...store, findings: store.findings.map((f, j) => ({ ...f, fix: outcomes[j] })) });
  }
  return tally(true, stores, check.report.notCovered);
}
