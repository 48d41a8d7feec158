import type { Etcd3 } from 'etcd3';
import { commitOps, readPrefix } from '../etcd/ops';
import type { Backend } from './backend';
import type { Service } from './service';

/** How one etcd-based registry lays a service out: one key, one value. */
export interface KeyLayout {
  /** e.g. `/services/web/node1:web:80` */
  keyOf(service: Service): string;
  /** e.g. `10.0.0.5:8080` */
  valueOf(service: Service): string;
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

  async register(service: Service): Promise<void> {
    await commitOps(this.etcd, [
      { put: this.layout.keyOf(service), value: this.layout.valueOf(service) },
      { put: this.ownerKey(service), value: JSON.stringify(service) },
    ]);
  }

  async deregister(service: Service): Promise<void> {
    // The key is deleted only while it still holds our value: another host may have taken the same ID since.
    await commitOps(this.etcd, [
      { delete: this.layout.keyOf(service), ifValue: this.layout.valueOf(service) },
      { delete: this.ownerKey(service) },
    ]);
  }

  async refresh(service: Service): Promise<void> {
    await this.register(service);
  }

  async owned(): Promise<Service[]> {
    const records = await readPrefix(this.etcd, this.ownersPrefix);
    const services: Service[] = [];
    for (const value of records.values()) {
      try {
        services.push(JSON.parse(value) as Service);
      } catch {
        // A record that is not ours to read is not ours to delete either.
      }
    }
    return services;
  }

  async close(): Promise<void> {
    if (this.options.ownsClient) this.etcd.close();
  }
}
