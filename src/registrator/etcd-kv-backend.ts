import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import { commitSplit } from '../etcd/commit';
import { KeyOp, ownersPrefix } from '../etcd/key-ops';
import { LeaseKeeper } from '../etcd/lease-keeper';
import { deletePrefixInPages } from '../etcd/purge';
import type { Logger } from '../log';
import type { Admission, Backend, BackendContext, EtcdRegistryReader, HostRecords, OwnedService, UnreadableRecord } from './backend';
import { commitChange, type WrittenAt } from './etcd-kv/commit-change';
import { danglingOps } from './etcd-kv/dangling';
import { HeldWatch, watchPrefix } from './etcd-kv/held-watch';
import { judgeRecord, readHostRecords } from './etcd-kv/reload';
import { RegistrationBook } from './registration-book';
import { changeOps, deregisterOps, KeyLayout, RecordBook, registerOps } from './registration-ops';
import type { Service, ServiceAction } from './service';
import type { RegistryUri } from './uri';

export type { KeyLayout } from './registration-ops';

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

/**
 * The registry core for registries that are one key (or one key tree) per service in etcd v3
 * (etcd://, skydns2://, hamesh://), each a KeyLayout. Next to every service it keeps an ownership record
 * `/_registrator/owners/<host>/<scope>/<container id>/<service id>` holding the service, written and
 * deleted in the same transaction, so after a crash the daemon still knows which keys are its own
 * (custom SERVICE_IDs included). One container's changes go in one transaction. A deletion is
 * guarded by the revision this host wrote the service at, so it never removes what another host or
 * container registered under the same ID since (the later registration wins; docs/registrator.md).
 * With `-ttl`, the service keys and the record are held by one lease, so a host that dies takes its
 * registrations with it.
 */
export class EtcdKvBackend implements Backend, EtcdRegistryReader {
  readonly description: string;
  readonly exclusive = false;
  readonly book: RegistrationBook;
  private readonly watch?: HeldWatch;

  constructor(
    /** The etcd this registry lives in (the daemon's, or the URI's own). */
    readonly etcd: Etcd3,
    private readonly layout: KeyLayout,
    private readonly options: EtcdKvBackendOptions,
  ) {
    this.description = options.description;
    this.book = new RegistrationBook((service) => {
      const keys = this.keysOf(service);
      return { keys, claims: layout.claims?.of(service) ?? [], watched: watchPrefix(layout, options.host, service, keys) };
    });
    if (options.onVanished && options.log) {
      this.watch = new HeldWatch(etcd, this.book, layout, this.ownersPrefix, options.onVanished, options.log);
    }
  }

  get reader(): EtcdRegistryReader {
    return this;
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

  admit(service: Service): Admission {
    const rejected = this.reject(service);
    return rejected ? { rejected } : { notes: this.layout.notes?.(service) ?? [] };
  }

  followsDockerHealth(): boolean {
    return false;
  }

  /** Where this host's ownership record of a service is, and the revision it holds it at. */
  private get records(): RecordBook {
    return { keyOf: (s) => this.recordKey(s), held: (s) => this.book.find(s, this.recordKey(s)) };
  }

  private get verdict(): { lost: ReadonlySet<string>; value: string } {
    return { lost: this.layout.claims?.lost ?? new Set(), value: this.options.host };
  }

  /** The puts of one registration, with its ownership record. */
  registerOps(service: Service, lease?: string): KeyOp[] {
    return registerOps(this.layout, this.records, service, lease, this.verdict);
  }

  /** What one container's steps commit here, in one transaction unless etcd's limits split it. */
  changeOps(actions: readonly ServiceAction[], lease?: string): { puts: KeyOp[]; deletes: KeyOp[] } {
    return changeOps(this.layout, this.records, actions, { lease, leased: this.options.lease !== undefined, verdict: this.verdict });
  }

  /** What carrying out a service writer's actions commits here, leases aside (`registrator diff`). */
  actionOps(actions: readonly ServiceAction[]): KeyOp[] {
    const { puts, deletes } = this.changeOps(actions);
    return [...puts, ...deletes];
  }

  /**
   * One container's steps in one transaction: its new and changed services with their records, and
   * the removal of the ones it no longer has (commitChange). The book follows; when the commit
   * fails, it is put back as it was.
   */
  async apply(actions: readonly ServiceAction[]): Promise<void> {
    if (actions.length === 0) return;
    const writes = actions.some((a) => a.kind !== 'deregister');
    const lease = writes ? await this.options.lease?.leaseId() : undefined;
    const kept = actions.filter((a) => a.kind !== 'deregister').map((a) => a.service);
    await this.layout.claims?.judge(this.etcd, kept, this.options.log);
    const { puts, deletes } = this.changeOps(actions, lease);
    const before = this.book.snapshot(actions.flatMap((a) => [this.recordKey(a.service), ...this.heldRecordKey(a.service)]));
    // Booked before the commit, so the watch never takes this host's own deletions for vanished keys.
    for (const a of actions) {
      if (a.kind === 'deregister')
        this.book.drop(this.book.find(a.service, this.recordKey(a.service))?.recordKey ?? this.recordKey(a.service));
    }
    // Under -ttl a refresh writes nothing (the lease is kept alive): its revision stays.
    const written = actions.filter((a) => a.kind !== 'deregister' && !(a.kind === 'refresh' && this.options.lease)).map((a) => a.service);
    for (const service of kept) this.book.hold(service, this.recordKey(service), this.heldRevision(service));
    let writtenAt: WrittenAt;
    try {
      writtenAt = await commitChange(this.etcd, puts, deletes);
    } catch (err) {
      this.book.restore(before);
      if (lease && err instanceof EtcdLeaseInvalidError) this.options.lease!.reportInvalid(lease);
      throw err;
    }
    for (const service of written) this.book.hold(service, this.recordKey(service), writtenAt(this.recordKey(service)));
    this.watch?.update();
  }

  private heldRecordKey(service: Service): string[] {
    const held = this.book.find(service, this.recordKey(service));
    return held ? [held.recordKey] : [];
  }

  private heldRevision(service: Service): string {
    return this.book.find(service, this.recordKey(service))?.revision ?? '0';
  }

  async purge(): Promise<void> {
    const prefixes = this.layout.purgePrefixes ?? [];
    if (prefixes.length === 0) return;
    // Nothing is held while the purge lands, so the watch does not take it for another host's.
    this.book.clear();
    await Promise.all(prefixes.map((p) => deletePrefixInPages(this.etcd, p)));
  }

  /**
   * Every service this host's records name, and how the registry holds it (judgeRecord); the book
   * is filled from them. Reads this host's records and their services' keys only.
   */
  async load(): Promise<HostRecords> {
    const { records, unreadable, current } = await readHostRecords(this.etcd, this.layout, this.ownersPrefix);
    await this.layout.claims?.judge(
      this.etcd,
      records.map((r) => r.service),
      this.options.log,
    );
    // Under -ttl a key must also be held by the current lease: one left by an earlier lease expires with it.
    const lease = this.options.lease ? await this.options.lease.leaseId() : '0';
    this.book.clear();
    const judging = { host: this.options.host, lease, anyLease: this.options.anyLease ?? false };
    const owned = records.map((record) => {
      const { intact, takenOver, revision } = judgeRecord(this.layout, record, current, judging);
      this.book.set(record.service, record.key, revision);
      return { service: record.service, intact, takenOver };
    });
    this.watch?.update();
    return { owned, unreadable };
  }

  async owned(): Promise<OwnedService[]> {
    return (await this.load()).owned;
  }

  async removeRecords(records: readonly UnreadableRecord[]): Promise<void> {
    await commitSplit(
      this.etcd,
      records.map((r) => ({ delete: r.key, ifValue: r.value })),
    );
  }

  /** SIGTERM: every service this host's records name, each removed under its guard, with its record. */
  async clear(): Promise<void> {
    // Nothing is watched from here on; the deletion does not wait for etcd to confirm it.
    void this.watch?.close();
    const { owned, unreadable } = await this.load();
    await commitSplit(this.etcd, [
      ...owned.flatMap(({ service }) => deregisterOps(this.layout, this.records, service)),
      ...unreadable.map((r) => ({ delete: r.key, ifValue: r.value })),
    ]);
    this.book.clear();
  }

  /** `-cleanup`: removes this host's dangling services (see danglingOps). */
  async removeDangling(keep: Service[]): Promise<string[]> {
    const { ops, removed } = await this.danglingOps(keep);
    if (ops.length > 0) await commitSplit(this.etcd, ops);
    return removed;
  }

  /** What removeDangling would delete, read without writing. */
  danglingOps(keep: Service[]): Promise<{ ops: KeyOp[]; removed: string[] }> {
    return danglingOps(this.etcd, this.layout, this.options.host, keep, this.book.services());
  }

  async close(): Promise<void> {
    await this.watch?.close();
    this.options.lease?.close();
    if (this.options.ownsClient) this.etcd.close();
  }
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
