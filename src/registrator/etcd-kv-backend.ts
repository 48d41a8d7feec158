import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import { LeaseKeeper } from '../etcd/lease-keeper';
import { ownersPrefix } from '../etcd/owners';
import { commitOps, KeyOp } from '../etcd/ops';
import { readPrefix, readStoredKeys } from '../etcd/reads';
import type { Backend, OwnedService } from './backend';
import type { BackendContext } from './registry';
import type { Service } from './service';
import type { ServiceAction } from './service-plan';
import type { RegistryUri } from './uri';

/** How one etcd-based registry lays a service out. */
export interface KeyLayout {
  /**
   * The prefix under which every service lives as `<root><name>/<id>` (a key, or a tree of keys),
   * e.g. `/services/`. `-cleanup` scans it for this host's dangling services.
   */
  root: string;
  /** Every key and value of one service, e.g. `/services/web/node1:web:80` = `10.0.0.5:8080`. */
  entries(service: Service): Array<[key: string, value: string]>;
  /**
   * When a service is a tree of keys (hamesh), the tree's prefix: deregistration deletes it whole.
   * Otherwise each key is deleted only while it still holds the value this host wrote.
   */
  tree?(service: Service): string;
  /** Why this registry cannot take the service, or undefined when it can. */
  reject?(service: Service): string | undefined;
  /** Prefixes SIGUSR2 purges (every host's data), if this registry is purged at all. */
  purgePrefixes?: string[];
}

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
}

/**
 * A registry that is one key (or one key tree) per service in etcd v3 (etcd://, skydns2://,
 * hamesh://). Next to every service it keeps an ownership record
 * `/_registrator/owners/<host>/<scope>/<service id>` holding the service, written and deleted in
 * the same transaction, so after a crash the daemon still knows which keys are its own (custom
 * SERVICE_IDs included) and never touches another host's. With `-ttl`, the service keys and the
 * record are held by one lease, so a host that dies takes its registrations with it.
 */
export class EtcdKvBackend implements Backend {
  readonly description: string;

  constructor(
    /** The etcd this registry lives in (the daemon's, or the URI's own). */
    readonly etcd: Etcd3,
    private readonly layout: KeyLayout,
    private readonly options: EtcdKvBackendOptions,
  ) {
    this.description = options.description;
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

  private ownerKey(service: Service): string {
    return `${this.ownersPrefix}${encodeURIComponent(service.id)}`;
  }

  async ping(): Promise<void> {
    await this.etcd.maintenance.status();
  }

  reject(service: Service): string | undefined {
    return this.layout.reject?.(service);
  }

  /** The puts of one registration: the service's keys and its ownership record, in one transaction. */
  registerOps(service: Service, lease?: string): KeyOp[] {
    return [
      ...this.layout.entries(service).map(([key, value]) => ({ put: key, value, lease })),
      { put: this.ownerKey(service), value: JSON.stringify(service), lease },
    ];
  }

  /** The deletes of one deregistration, record included. */
  deregisterOps(service: Service): KeyOp[] {
    const tree = this.layout.tree?.(service);
    // A single key is deleted only while it still holds our value: another host may have taken the same ID since.
    const removals: KeyOp[] = tree
      ? [{ deletePrefix: tree }]
      : this.layout.entries(service).map(([key, value]) => ({ delete: key, ifValue: value }));
    return [...removals, { delete: this.ownerKey(service) }];
  }

  /** What carrying out a service writer's action commits here, leases aside (`registrator diff`). */
  actionOps(action: ServiceAction): KeyOp[] {
    if (action.kind === 'deregister') return this.deregisterOps(action.service);
    // refresh writes nothing under a lease (the lease keeper renews it) and registers again without one.
    if (action.kind === 'refresh' && this.options.lease) return [];
    return this.registerOps(action.service);
  }

  async register(service: Service): Promise<void> {
    const lease = await this.options.lease?.leaseId();
    try {
      await commitOps(this.etcd, this.registerOps(service, lease));
    } catch (err) {
      if (lease && err instanceof EtcdLeaseInvalidError) this.options.lease!.reportInvalid(lease);
      throw err;
    }
  }

  async deregister(service: Service): Promise<void> {
    await commitOps(this.etcd, this.deregisterOps(service));
  }

  async purge(): Promise<void> {
    const prefixes = this.layout.purgePrefixes ?? [];
    if (prefixes.length > 0) await commitOps(this.etcd, prefixes.map((p) => ({ deletePrefix: p })));
  }

  /** Keys live as long as the lease; LeaseKeeper keeps it alive, so nothing is written per service. */
  async refresh(service: Service): Promise<void> {
    if (!this.options.lease) await this.register(service);
  }

  async owned(): Promise<OwnedService[]> {
    const records = await readPrefix(this.etcd, this.ownersPrefix);
    const services: Service[] = [];
    for (const value of records.values()) {
      try {
        services.push(JSON.parse(value) as Service);
      } catch {
        // A record that is not ours to read is not ours to delete either.
      }
    }
    const wanted = services.flatMap((s) => this.layout.entries(s));
    const current = await readStoredKeys(this.etcd, wanted.map(([key]) => key));
    // Under -ttl a key must also be held by the current lease: one left by an earlier lease expires with it.
    const lease = this.options.lease ? await this.options.lease.leaseId() : '0';
    return services.map((service) => ({
      service,
      intact: this.layout.entries(service).every(([key, value]) => current.get(key)?.value === value && (this.options.anyLease || current.get(key)?.lease === lease)),
    }));
  }

  /**
   * `-cleanup`: removes services under the registry's root whose ID starts with `<host>:` (the
   * default ID of this host, as gliderlabs/registrator also writes it) but that this daemon does
   * not hold: left by an earlier registrator without ownership records, or by a hand.
   */
  async removeDangling(keep: Service[]): Promise<string[]> {
    const { ops, removed } = await this.danglingOps(keep);
    if (ops.length > 0) await commitOps(this.etcd, ops);
    return removed;
  }

  /** What removeDangling would delete, read without writing: the ops and the keys or trees they remove. */
  async danglingOps(keep: Service[]): Promise<{ ops: KeyOp[]; removed: string[] }> {
    const kept = new Set(keep.flatMap((s) => this.layout.entries(s).map(([key]) => key)));
    const ownId = `${this.options.host}:`;
    const ops: KeyOp[] = [];
    const removed = new Set<string>();
    for (const [key, value] of await readPrefix(this.etcd, this.layout.root)) {
      const parts = key.slice(this.layout.root.length).split('/');
      const [name, id] = parts;
      if (!name || !id?.startsWith(ownId) || kept.has(key) || (!this.layout.tree && parts.length !== 2)) continue;
      const tree = `${this.layout.root}${name}/${id}/`;
      if (this.layout.tree && key.startsWith(tree)) {
        if (!removed.has(tree)) ops.push({ deletePrefix: tree });
        removed.add(tree);
      } else {
        ops.push({ delete: key, ifValue: value });
        removed.add(key);
      }
    }
    return { ops, removed: [...removed] };
  }

  async close(): Promise<void> {
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
    lease: context.ttl && !context.readOnly
      ? new LeaseKeeper(client, {
          ...context.ttl,
          onLost: (reason) => context.requestReconcile(`lease of ${uri.raw} lost: ${reason}`),
          onHeld: (held) => context.observer?.leaseHeld?.(uri.raw, held),
          log: context.log.child({ component: `lease.${uri.scheme}`, registry: uri.raw }),
        })
      : undefined,
  });
}
