import { OWNERS_ROOT_PATH } from '../../owners-root';
import { hostPort } from '../address';
import type { OwnedService } from '../backend';
import type { Service } from '../service';
import { ServiceByServiceBackend } from '../service-by-service';
import { serviceOfRecord } from '../service-record';
import { ConsulClient } from './client';
import { kvDelete, kvGet, kvList, kvPut } from './kv';

/** Root of the ownership records in Consul KV. */
const KV_OWNERS_ROOT = OWNERS_ROOT_PATH;

export interface ConsulKvBackendOptions {
  /** Key prefix without leading or trailing `/`, e.g. `services`. */
  prefix: string;
  /** The daemon's host name; ownership records are filed under it. */
  host: string;
  description: string;
}

/** The value of a service's key: `ip:port`, IPv6 in brackets. */
function kvValue(service: Service): string {
  return hostPort(service.ip, service.port);
}

/**
 * consulkv://[host:port]/<prefix> (and consul:// with a path): Consul KV `<prefix>/<name>/<id>` =
 * `<ip>:<port>` (docs/registrator.md). Next to each key an ownership record
 * `_registrator/owners/<host>/consulkv/<prefix>/<service id, URI-encoded>` holds the service as JSON,
 * written before the key and deleted after it, so a crash between the two never leaves a key nobody
 * owns. A key is deleted only while it still holds this host's value (check-and-set on its ModifyIndex).
 */
export class ConsulKvBackend extends ServiceByServiceBackend {
  readonly description: string;

  constructor(
    private readonly client: ConsulClient,
    private readonly options: ConsulKvBackendOptions,
  ) {
    super();
    this.description = options.description;
  }

  serviceKey(service: Service): string {
    return `${this.options.prefix}/${service.name}/${service.id}`;
  }

  private get ownersPrefix(): string {
    return `${KV_OWNERS_ROOT}/${this.options.host}/consulkv/${this.options.prefix}/`;
  }

  private ownerKey(service: Service): string {
    return `${this.ownersPrefix}${encodeURIComponent(service.id)}`;
  }

  async ping(): Promise<void> {
    await this.client.leader();
  }

  async register(service: Service): Promise<void> {
    await kvPut(this.client, this.ownerKey(service), JSON.stringify(service));
    await kvPut(this.client, this.serviceKey(service), kvValue(service));
  }

  async deregister(service: Service): Promise<void> {
    const key = this.serviceKey(service);
    const entry = await kvGet(this.client, key);
    // Another host may have taken the key since: delete it only while it holds our value, unchanged.
    if (entry && entry.value === kvValue(service)) await kvDelete(this.client, key, entry.modifyIndex);
    await kvDelete(this.client, this.ownerKey(service));
  }

  async refresh(service: Service): Promise<void> {
    await this.register(service);
  }

  async owned(): Promise<OwnedService[]> {
    const records = await kvList(this.client, this.ownersPrefix);
    const services: Service[] = [];
    for (const [key, entry] of records) {
      // Records of a longer prefix (`<prefix>/sub/...`) live below ours; they are not this registry's.
      if (key.slice(this.ownersPrefix.length).includes('/')) continue;
      // A record that is not ours to read is not ours to delete either.
      const service = serviceOfRecord(entry.value);
      if (service) services.push(service);
    }
    if (services.length === 0) return [];
    const current = await kvList(this.client, `${this.options.prefix}/`);
    return services.map((service) => ({ service, intact: current.get(this.serviceKey(service))?.value === kvValue(service) }));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
