import type { Admission, Backend, HostRecords, OwnedService, UnreadableRecord } from './backend';
import { RegistrationBook } from './registration-book';
import type { Service, ServiceAction } from './service';

/** Where a service is filed in the book of a registry written service by service: its container and ID. */
function bookKey(service: Service): string {
  return `${service.origin.containerId}\0${service.id}`;
}

/**
 * The adapter for a registry written one service at a time (Consul's agent and KV, netfilter's
 * ipset): a container's steps are carried out one by one through `register`, `deregister` and
 * `refresh`, and booked as each is taken. A registry says only how it writes one service and
 * reads back its own; what it does not override is what most registries do: take every service,
 * follow no Docker health, keep no unreadable records, remove nothing dangling, be purged never.
 */
export abstract class ServiceByServiceBackend implements Backend {
  abstract readonly description: string;
  readonly book = new RegistrationBook();
  readonly exclusive: boolean = false;
  readonly reader = null;

  abstract ping(): Promise<void>;
  /** Writes (or overwrites) one service, and records that this host owns it. */
  abstract register(service: Service): Promise<void>;
  /** Removes one service this host registered, and its ownership record. */
  abstract deregister(service: Service): Promise<void>;
  /** Renews a service's time to live, or tells the registry its health; a registry without either writes it again. */
  abstract refresh(service: Service): Promise<void>;
  /** Every service this host owns in the registry, as recorded there, and whether the registry still holds it as written. */
  abstract owned(): Promise<OwnedService[]>;
  abstract close(): Promise<void>;

  async load(): Promise<HostRecords> {
    const owned = await this.owned();
    this.book.clear();
    for (const { service } of owned) this.book.set(service, bookKey(service), '0');
    return { owned, unreadable: [] };
  }

  async apply(actions: readonly ServiceAction[]): Promise<void> {
    for (const action of actions) {
      const { service } = action;
      if (action.kind === 'deregister') {
        await this.deregister(service);
        this.book.drop(bookKey(service));
        continue;
      }
      if (action.kind === 'refresh') await this.refresh(service);
      else await this.register(service);
      this.book.hold(service, bookKey(service), '0');
    }
  }

  admit(_service: Service): Admission {
    return { notes: [] };
  }

  followsDockerHealth(_service: Service): boolean {
    return false;
  }

  async removeRecords(_records: readonly UnreadableRecord[]): Promise<void> {}

  async removeDangling(_keep: Service[]): Promise<string[]> {
    return [];
  }

  /** SIGTERM: removes every service this host's records name (removeAll), and forgets them. */
  async clear(): Promise<void> {
    await this.removeAll();
    this.book.clear();
  }

  async purge(): Promise<void> {}

  /** What `clear` removes: each service `owned` names, one by one. */
  protected async removeAll(): Promise<void> {
    for (const { service } of await this.owned()) await this.deregister(service);
  }
}
