import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import { commitAtomic, commitSplit } from '../etcd/commit';
import { DeletionWatch } from '../etcd/deletion-watch';
import { TransactionTooLargeError } from '../etcd/errors';
import { atomicLimitExceeded, KeyOp, ownersPrefix } from '../etcd/key-ops';
import { LeaseKeeper } from '../etcd/lease-keeper';
import { deletePrefixInPages } from '../etcd/purge';
import { prefixPages, readPrefix, readStoredKeys } from '../etcd/reads';
import type { Logger } from '../log';
import { WarnOnce } from '../warn-once';
import type { Backend, BackendContext, OwnedService, UnreadableRecord } from './backend';
import { changeOps, Claim, deregisterOps, HeldRecord, judgeClaims, KeyLayout, RecordBook, registerOps } from './registration-ops';

export type { KeyLayout } from './registration-ops';
import type { Service, ServiceAction } from './service';
import { serviceOfRecord } from './service-record';
import type { RegistryUri } from './uri';

export interface EtcdKvBackendOptions {
  /** The daemon's host name; ownership records are filed under it. */
  host: string;
  /** Distinguishes registries sharing one etcd, e.g. `etcd/services`. */
  scope: string;
  description: string;
  /** Closes the client on close() when the backend opened it itself. */
  ownsClient: boolean;
  /** `-ttl`: the lease every key of this registry is written under; none without `-ttl`. */
  lease?: LeaseKeeper;
  /**
   * Read-only use (`registrator ls`, `diff`): no lease is taken, and a key counts as intact when it
   * holds the value written, whichever lease holds it (only the daemon knows its current lease).
   */
  anyLease?: boolean;
  /** Told when a key of a service this host holds is deleted behind its back (self-healing); nothing is watched without it. */
  onVanished?: (reason: string) => void;
  /** Where claims on ports and a failed watch are reported. */
  log?: Logger;
}

/** One service this host holds, with what its layout derives from it, worked out once when it is held. */
interface Held extends HeldRecord {
  service: Service;
  /** Its keys (without the ownership record). */
  keys: ReadonlySet<string>;
  claims: readonly Claim[];
  /** Where it is watched for deletions: its own prefix (see watchPrefix); its claims' ranges are watched for puts too. */
  watched: string;
}

/** A service as held services are looked up when its record is not where this host files it now. */
function serviceKey(service: Service): string {
  return `${service.origin.containerId}\0${service.id}`;
}

/**
 * A registry that is one key (or one key tree) per service in etcd v3 (etcd://, skydns2://,
 * hamesh://). Next to every service it keeps an ownership record
 * `/_registrator/owners/<host>/<scope>/<container id>/<service id>` holding the service, written and
 * deleted in the same transaction, so after a crash the daemon still knows which keys are its own
 * (custom SERVICE_IDs included). One container's changes go in one transaction. A deletion is
 * guarded by the revision this host wrote the service at, so it never removes what another host or
 * container registered under the same ID since (the later registration wins; docs/registrator.md).
 * With `-ttl`, the service keys and the record are held by one lease, so a host that dies takes its
 * registrations with it.
 */
export class EtcdKvBackend implements Backend {
  readonly description: string;
  /** record key -> what this host holds, as loaded and as written since (changed through setHeld/dropHeld/clearHeld). */
  private readonly held = new Map<string, Held>();
  /** The same, by container and service ID (serviceKey): a record filed under another key is still found. */
  private readonly heldByService = new Map<string, Held[]>();
  /** How many held services are watched through each prefix; the watch is changed only when its set of prefixes is. */
  private readonly watchedPrefixes = new Map<string, number>();
  /** The claims of held services, by range: the ranges are watched for puts too (another service's claim). */
  private readonly claimsByRange = new Map<string, string[]>();
  /** How many held services write each key (their keys and claims), so a deleted key is looked up, not searched for. */
  private readonly heldKeys = new Map<string, number>();
  /** Claimed keys (a hamesh port key) of held services -> their claims: held while a claim is not lost. */
  private readonly claimedEntries = new Map<string, string[]>();
  private watchedChanged = false;
  private unreadable: UnreadableRecord[] = [];
  /** Claim keys (hamesh ports) this host's services have lost to another service's claim. */
  private readonly lost = new Set<string>();
  /** What was last said about each claim, so a resync does not repeat it. */
  private readonly said = new WarnOnce({ emptyForgets: true });
  private readonly watch?: DeletionWatch;

  constructor(
    /** The etcd this registry lives in (the daemon's, or the URI's own). */
    readonly etcd: Etcd3,
    private readonly layout: KeyLayout,
    private readonly options: EtcdKvBackendOptions,
  ) {
    this.description = options.description;
    const onVanished = options.onVanished;
    if (onVanished && options.log) {
      this.watch = new DeletionWatch(
        etcd,
        (key) => (this.isHeld(key) || this.isOthersClaim(key)) && onVanished(`${key} deleted`),
        options.log,
        (key) => this.isOthersClaim(key) && onVanished(`${key} claims a port this host's service claims`),
      );
    }
  }

  /** This registry's scope in ownership records, e.g. `hamesh/mesh` (records: `/_registrator/owners/<host>/<scope>/`). */
  get scope(): string {
    return this.options.scope;
  }

  private get ownersPrefix(): string {
    return ownersPrefix(this.options.host, this.options.scope);
  }

  /** The keys one service is written as here (without its ownership record). */
  keysOf(service: Service): string[] {
    return this.layout.entries(service).map(([key]) => key);
  }

  /** Keyed by container and service, so two containers with one SERVICE_ID each have their own. */
  private recordKey(service: Service): string {
    return `${this.ownersPrefix}${service.origin.containerId}/${encodeURIComponent(service.id)}`;
  }

  async ping(): Promise<void> {
    await this.etcd.maintenance.status();
  }

  reject(service: Service): string | undefined {
    return this.layout.reject?.(service);
  }

  notes(service: Service): string[] {
    return this.layout.notes?.(service) ?? [];
  }

  /** Where this host's ownership record of a service is, and the revision it holds it at. */
  private get records(): RecordBook {
    return { keyOf: (s) => this.recordKey(s), held: (s) => this.heldFor(s) };
  }

  /** The puts of one registration, with its ownership record. */
  registerOps(service: Service, lease?: string): KeyOp[] {
    return registerOps(this.layout, this.records, service, lease, { lost: this.lost, value: this.options.host });
  }

  /** What one container's steps commit here, in one transaction unless etcd's limits split it. */
  changeOps(actions: readonly ServiceAction[], lease?: string): { puts: KeyOp[]; deletes: KeyOp[] } {
    return changeOps(this.layout, this.records, actions, {
      lease,
      leased: this.options.lease !== undefined,
      verdict: { lost: this.lost, value: this.options.host },
    });
  }

  /** What carrying out a service writer's actions commits here, leases aside (`registrator diff`). */
  actionOps(actions: readonly ServiceAction[]): KeyOp[] {
    const { puts, deletes } = this.changeOps(actions);
    return [...puts, ...deletes];
  }

  /**
   * One container's steps in one transaction: its new and changed services with their records, and
   * the removal of the ones it no longer has. Past etcd's limits, the puts go first and the deletes
   * after, so no service is ever missing in between.
   */
  async apply(actions: readonly ServiceAction[]): Promise<void> {
    if (actions.length === 0) return;
    const writes = actions.some((a) => a.kind !== 'deregister');
    const lease = writes ? await this.options.lease?.leaseId() : undefined;
    await this.judgeClaims(actions.filter((a) => a.kind !== 'deregister').map((a) => a.service));
    const { puts, deletes } = this.changeOps(actions, lease);
    // Held before the commit, so the watch never takes this host's own deletions for vanished keys.
    for (const a of actions) {
      if (a.kind === 'deregister') this.dropHeld(this.heldFor(a.service)?.recordKey ?? this.recordKey(a.service));
    }
    const registered = actions
      .filter((a) => a.kind !== 'deregister' && !(a.kind === 'refresh' && this.options.lease))
      .map((a) => a.service);
    for (const service of registered) this.hold(service, this.heldFor(service)?.revision ?? '0');
    let revision: string;
    try {
      revision = await this.commitChange(puts, deletes);
    } catch (err) {
      if (lease && err instanceof EtcdLeaseInvalidError) this.options.lease!.reportInvalid(lease);
      throw err;
    }
    for (const service of registered) this.hold(service, revision);
    this.watchHeld();
  }

  /** Puts and deletes in one transaction; past etcd's limits, the puts first (in pairs) and the deletes after. */
  private async commitChange(puts: readonly KeyOp[], deletes: readonly KeyOp[]): Promise<string> {
    try {
      return await commitAtomic(this.etcd, [...puts, ...deletes]);
    } catch (err) {
      if (!(err instanceof TransactionTooLargeError)) throw err;
    }
    const revision = await this.commitInPairs(puts);
    await commitSplit(this.etcd, deletes);
    return revision;
  }

  /** Puts too many for one transaction: each service's guard key and record go together; resolves with the first's revision. */
  private async commitInPairs(puts: readonly KeyOp[]): Promise<string> {
    let first: string | undefined;
    for (const batch of splitKeepingPairs(puts)) first ??= await commitAtomic(this.etcd, batch);
    return first ?? '0';
  }

  async register(service: Service): Promise<void> {
    await this.apply([{ kind: 'register', service }]);
  }

  async deregister(service: Service): Promise<void> {
    await this.apply([{ kind: 'deregister', service }]);
  }

  /** Keys live as long as the lease; LeaseKeeper keeps it alive, so nothing is written per service. */
  async refresh(service: Service): Promise<void> {
    if (!this.options.lease) await this.register(service);
  }

  async purge(): Promise<void> {
    const prefixes = this.layout.purgePrefixes ?? [];
    if (prefixes.length === 0) return;
    // Nothing is held while the purge lands, so the watch does not take it for another host's.
    this.clearHeld();
    await Promise.all(prefixes.map((p) => deletePrefixInPages(this.etcd, p)));
  }

  /**
   * Every service this host's records name, and how the registry holds it: intact, missing a key
   * (to be written again), or taken over by a later registration of the same keys (left alone).
   * Reads this host's records and their services' keys only.
   */
  async owned(): Promise<OwnedService[]> {
    const records: Array<{ key: string; service: Service; revision: string }> = [];
    const unreadable: UnreadableRecord[] = [];
    for await (const page of prefixPages(this.etcd, this.ownersPrefix)) {
      for (const kv of page.kvs) {
        const key = kv.key.toString();
        const value = kv.value.toString();
        const service = serviceOfRecord(value);
        if (service) records.push({ key, service, revision: String(kv.mod_revision) });
        else unreadable.push({ key, value });
      }
    }
    const claimKeys = (s: Service) => (this.layout.claims?.(s) ?? []).flatMap((c) => [c.key, c.entry[0]]);
    const current = await readStoredKeys(
      this.etcd,
      records.flatMap((r) => [...this.keysOf(r.service), ...claimKeys(r.service)]),
    );
    await this.judgeClaims(records.map((r) => r.service));
    // Under -ttl a key must also be held by the current lease: one left by an earlier lease expires with it.
    const lease = this.options.lease ? await this.options.lease.leaseId() : '0';
    this.clearHeld();
    this.unreadable = unreadable;
    const owned = records.map(({ key, service, revision }) => {
      const entries = this.layout.entries(service);
      const guard = entries[0] ? current.get(entries[0][0]) : undefined;
      // Written after this host's record: another registration of the same keys has won them.
      const takenOver = guard !== undefined && BigInt(guard.modRevision) > BigInt(revision);
      this.setHeld(service, key, takenOver || !guard ? revision : guard.modRevision);
      const holds = ([k, v]: [string, string]) => current.get(k)?.value === v && (this.options.anyLease || current.get(k)?.lease === lease);
      // A claimed key is written by the claim's winner only; a lost one still written by this host must go.
      const claims = this.layout.claims?.(service) ?? [];
      const claimsAsJudged = claims.every(
        (c) =>
          holds([c.key, this.options.host]) &&
          (this.lost.has(c.key) ? current.get(c.entry[0])?.modRevision !== guard?.modRevision : holds(c.entry)),
      );
      const intact = entries.every(holds) && claimsAsJudged;
      return { service, intact: intact || takenOver, takenOver };
    });
    this.watchHeld();
    return owned;
  }

  unreadableRecords(): readonly UnreadableRecord[] {
    return this.unreadable;
  }

  async removeRecords(records: readonly UnreadableRecord[]): Promise<void> {
    await commitSplit(
      this.etcd,
      records.map((r) => ({ delete: r.key, ifValue: r.value })),
    );
    const removed = new Set(records.map((r) => r.key));
    this.unreadable = this.unreadable.filter((r) => !removed.has(r.key));
  }

  /** SIGTERM: every service this host's records name, each removed under its guard, with its record. */
  async clear(): Promise<void> {
    // Nothing is watched from here on; the deletion does not wait for etcd to confirm it.
    void this.watch?.close();
    const owned = await this.owned();
    await commitSplit(this.etcd, [
      ...owned.flatMap(({ service }) => deregisterOps(this.layout, this.records, service)),
      ...this.unreadable.map((r) => ({ delete: r.key, ifValue: r.value })),
    ]);
    this.clearHeld();
  }

  /**
   * `-cleanup`: removes services under the registry's root whose ID starts with `<host>:` (the
   * default ID of this host, as gliderlabs/registrator also writes it) but that this daemon does
   * not hold: left by an earlier registrator without ownership records, or by a hand.
   */
  async removeDangling(keep: Service[]): Promise<string[]> {
    const { ops, removed } = await this.danglingOps(keep);
    if (ops.length > 0) await commitSplit(this.etcd, ops);
    return removed;
  }

  /**
   * What removeDangling would delete, read without writing: the ops and the keys or trees they
   * remove. Only the names this host registers (now or by its records) are looked under, and in
   * each only the IDs that start with `<host>:`, so it costs what this host holds, not the fleet.
   */
  async danglingOps(keep: Service[]): Promise<{ ops: KeyOp[]; removed: string[] }> {
    const kept = new Set(keep.flatMap((s) => this.keysOf(s)));
    const names = new Set([...keep, ...[...this.held.values()].map((h) => h.service)].map((s) => s.name));
    const ownId = `${this.options.host}:`;
    const ops: KeyOp[] = [];
    const removed = new Set<string>();
    for (const name of names) {
      const base = `${this.layout.root}${name}/`;
      for (const [key, value] of await readPrefix(this.etcd, `${base}${ownId}`)) {
        const parts = key.slice(this.layout.root.length).split('/');
        const id = parts[1];
        if (kept.has(key) || (!this.layout.tree && parts.length !== 2)) continue;
        const tree = `${base}${id}/`;
        if (this.layout.tree && key.startsWith(tree)) {
          if (!removed.has(tree)) ops.push({ deletePrefix: tree });
          removed.add(tree);
        } else {
          ops.push({ delete: key, ifValue: value });
          removed.add(key);
        }
      }
    }
    return { ops, removed: [...removed] };
  }

  async close(): Promise<void> {
    await this.watch?.close();
    this.options.lease?.close();
    if (this.options.ownsClient) this.etcd.close();
  }

  private heldFor(service: Service): Held | undefined {
    return this.held.get(this.recordKey(service)) ?? this.heldByService.get(serviceKey(service))?.[0];
  }

  private hold(service: Service, revision: string): void {
    const recordKey = this.recordKey(service);
    const earlier = this.heldFor(service);
    if (earlier && earlier.recordKey !== recordKey) this.dropHeld(earlier.recordKey);
    this.setHeld(service, recordKey, revision);
  }

  private setHeld(service: Service, recordKey: string, revision: string): void {
    const previous = this.held.get(recordKey);
    // The same service again (a write's second hold): only its revision changes.
    if (previous?.service === service) return void (previous.revision = revision);
    if (previous) this.dropHeld(recordKey);
    const keys = this.layout.entries(service).map(([key]) => key);
    const claims = this.layout.claims?.(service) ?? [];
    const held: Held = { service, recordKey, revision, keys: new Set(keys), claims, watched: this.watchPrefix(service, keys) };
    this.held.set(recordKey, held);
    const same = this.heldByService.get(serviceKey(service));
    if (same) same.push(held);
    else this.heldByService.set(serviceKey(service), [held]);
    if (held.watched !== '') this.countWatched(held.watched, 1);
    for (const key of keys) count(this.heldKeys, key, 1);
    for (const claim of claims) {
      count(this.heldKeys, claim.key, 1);
      const claimed = this.claimedEntries.get(claim.entry[0]);
      if (claimed) claimed.push(claim.key);
      else this.claimedEntries.set(claim.entry[0], [claim.key]);
      const filed = this.claimsByRange.get(claim.range);
      if (filed) filed.push(claim.key);
      else {
        this.claimsByRange.set(claim.range, [claim.key]);
        this.watchedChanged = true;
      }
    }
  }

  private dropHeld(recordKey: string): void {
    const held = this.held.get(recordKey);
    if (!held) return;
    this.held.delete(recordKey);
    const same = this.heldByService.get(serviceKey(held.service))!.filter((h) => h !== held);
    if (same.length > 0) this.heldByService.set(serviceKey(held.service), same);
    else this.heldByService.delete(serviceKey(held.service));
    if (held.watched !== '') this.countWatched(held.watched, -1);
    for (const key of held.keys) count(this.heldKeys, key, -1);
    for (const claim of held.claims) {
      count(this.heldKeys, claim.key, -1);
      const claimed = this.claimedEntries.get(claim.entry[0])!;
      claimed.splice(claimed.indexOf(claim.key), 1);
      if (claimed.length === 0) this.claimedEntries.delete(claim.entry[0]);
      const filed = this.claimsByRange.get(claim.range)!;
      filed.splice(filed.indexOf(claim.key), 1);
      if (filed.length > 0) continue;
      this.claimsByRange.delete(claim.range);
      this.watchedChanged = true;
    }
  }

  private clearHeld(): void {
    this.held.clear();
    this.heldByService.clear();
    this.watchedPrefixes.clear();
    this.claimsByRange.clear();
    this.heldKeys.clear();
    this.claimedEntries.clear();
    this.watchedChanged = true;
  }

  private countWatched(prefix: string, by: 1 | -1): void {
    if (count(this.watchedPrefixes, prefix, by)) this.watchedChanged = true;
  }

  /** Whether `key` is one of the services, claims or records this host holds (and so should still be in etcd). */
  private isHeld(key: string): boolean {
    if (this.held.has(key) || this.heldKeys.has(key)) return true;
    return this.claimedEntries.get(key)?.some((claim) => !this.lost.has(claim)) ?? false;
  }

  /** Whether `key` is another service's claim in a range where a service this host holds claims too. */
  private isOthersClaim(key: string): boolean {
    // The ranges `key` lies in are its prefixes that end in `/`.
    for (let end = key.indexOf('/'); end !== -1; end = key.indexOf('/', end + 1)) {
      if (this.claimsByRange.get(key.slice(0, end + 1))?.some((claim) => claim !== key)) return true;
    }
    return false;
  }

  /**
   * The prefix a held service is watched through. A service with this host's default ID is watched
   * through `<root><name>/<host>:`, one watcher for all of this host's services of that name (whose
   * keys are this host's alone), so containers coming and going do not make and cancel watchers; a
   * custom ID is watched on its own.
   */
  private watchPrefix(service: Service, keys: readonly string[]): string {
    const own = service.id.startsWith(`${this.options.host}:`) ? `${this.layout.root}${service.name}/${this.options.host}:` : undefined;
    return own && keys.every((k) => k.startsWith(own)) ? own : (this.layout.tree?.(service) ?? keys[0] ?? '');
  }

  /** Watches this host's records, and the prefixes of the services it holds and of their claims, once they changed. */
  private watchHeld(): void {
    if (!this.watch || !this.watchedChanged) return;
    this.watchedChanged = false;
    const ranges = new Set(this.claimsByRange.keys());
    this.watch.watch([this.ownersPrefix, ...this.watchedPrefixes.keys(), ...ranges], ranges);
  }

  /**
   * Judges the claims of these services (hamesh ports) from the claims filed in their ranges (one
   * range read per port claimed: its claimants, not the fleet), remembers the lost ones, and says
   * once who keeps a port that several services claim.
   */
  private async judgeClaims(services: readonly Service[]): Promise<void> {
    const claims = services.flatMap((s) => (this.layout.claims?.(s) ?? []).map((claim) => ({ claim, service: s })));
    if (claims.length === 0) return;
    const filed = new Map<string, string[]>();
    for (const range of new Set(claims.map((c) => c.claim.range))) filed.set(range, [...(await readPrefix(this.etcd, range)).keys()]);
    const verdicts = judgeClaims(
      claims.map((c) => c.claim),
      filed,
    );
    for (const { claim, service } of claims) {
      const { wins, others } = verdicts.get(claim.key)!;
      if (wins) this.lost.delete(claim.key);
      else this.lost.add(claim.key);
      const text = others.length === 0 ? '' : `${wins}:${others.join(' ')}`;
      if (!this.said.isNew(claim.key, text)) continue;
      const message = wins
        ? 'port claimed by other services too: this one keeps it (its name/id sorts first)'
        : 'port held by another service (its name/id sorts first): registered without it';
      this.options.log?.warn(message, { service: service.id, container: service.origin.containerName, port: claim.what, others });
    }
  }
}

/** Adds `by` to `key`'s count in `counts` (a key whose count falls to 0 goes); true when the key came or went. */
function count(counts: Map<string, number>, key: string, by: 1 | -1): boolean {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
  return n === 0 || (n === 1 && by === 1);
}

/** Splits puts into atomic transactions, never between a guard key and the record right after it. */
function splitKeepingPairs(puts: readonly KeyOp[]): KeyOp[][] {
  const batches: KeyOp[][] = [];
  let current: KeyOp[] = [];
  for (let i = 0; i < puts.length; i++) {
    const pair = [puts[i], ...(isRecord(puts[i + 1]) ? [puts[++i]] : [])];
    if (current.length > 0 && atomicLimitExceeded([...current, ...pair]) !== undefined) {
      batches.push(current);
      current = [];
    }
    current.push(...pair);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function isRecord(op: KeyOp | undefined): boolean {
  return op !== undefined && 'put' in op && op.put.startsWith('/_registrator/owners/');
}

/** The backend for an etcd-based URI: its etcd client (shared or its own) and, under `-ttl`, its lease. */
export function etcdKvBackend(uri: RegistryUri, context: BackendContext, layout: KeyLayout): EtcdKvBackend {
  const { client, shared } = context.etcdFor(uri);
  const scope = `${uri.scheme}/${uri.path}`;
  return new EtcdKvBackend(client, layout, {
    host: context.host,
    scope,
    description: uri.raw,
    ownsClient: !shared,
    anyLease: context.readOnly,
    onVanished: context.readOnly ? undefined : context.onVanished,
    log: context.log.child({ component: `registry.${uri.scheme}`, registry: uri.raw }),
    lease:
      context.ttl && !context.readOnly
        ? new LeaseKeeper(client, {
            ...context.ttl,
            onLost: (reason) => context.requestReconcile(`lease of ${uri.raw} lost: ${reason}`),
            onHeld: (held) => context.observer?.leaseHeld?.(uri.raw, held),
            log: context.log.child({ component: `lease.${uri.scheme}`, registry: uri.raw }),
          })
        : undefined,
  });
}
