import type { Etcd3 } from 'etcd3';
import { commitOps, KeyOp, readKeys, readPrefix } from '../etcd/ops';
import type { Backend, OwnedService } from './backend';
import type { Service } from './service';

/** How one etcd-based registry lays a service out. */
export interface KeyLayout {
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
}

/** Root of the ownership records in each registry's etcd. */
export const OWNERS_ROOT = '/_registrator/owners';

/**
 * A registry that is one key per service in etcd v3 (etcd://, skydns2://). Next to every service
 * key it keeps an ownership record `/_registrator/owners/<host>/<scope>/<service id>` holding the
 * service, written and deleted in the same transaction, so after a crash the daemon still knows
 * which keys are its own (custom SERVICE_IDs included) and never touches another host's.
 */
export class EtcdKvBackend implements Backend {
  readonly description: string;

  constructor(
    private readonly etcd: Etcd3,
    private readonly layout: KeyLayout,
    private readonly options: EtcdKvBackendOptions,
  ) {
    this.description = options.description;
  }

  private get ownersPrefix(): string {
    return `${OWNERS_ROOT}/${this.options.host}/${this.options.scope}/`;
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

  async register(service: Service): Promise<void> {
    await commitOps(this.etcd, [
      ...this.layout.entries(service).map(([key, value]) => ({ put: key, value })),
      { put: this.ownerKey(service), value: JSON.stringify(service) },
    ]);
  }

  async deregister(service: Service): Promise<void> {
    const tree = this.layout.tree?.(service);
    // A single key is deleted only while it still holds our value: another host may have taken the same ID since.
    const removals: KeyOp[] = tree
      ? [{ deletePrefix: tree }]
      : this.layout.entries(service).map(([key, value]) => ({ delete: key, ifValue: value }));
    await commitOps(this.etcd, [...removals, { delete: this.ownerKey(service) }]);
  }

  async purge(): Promise<void> {
    const prefixes = this.layout.purgePrefixes ?? [];
    if (prefixes.length > 0) await commitOps(this.etcd, prefixes.map((p) => ({ deletePrefix: p })));
  }

  async refresh(service: Service): Promise<void> {
    await this.register(service);
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
    const current = await readKeys(this.etcd, wanted.map(([key]) => key));
    return services.map((service) => ({
      service,
      intact: this.layout.entries(service).every(([key, value]) => current.get(key) === value),
    }));
  }

  async close(): Promise<void> {
    if (this.options.ownsClient) this.etcd.close();
  }
}
