import type { OwnedService } from '../../src/registrator/backend';
import type { Service } from '../../src/registrator/service';
import { ServiceByServiceBackend } from '../../src/registrator/service-by-service';
import { sleep } from './wait';

/** A registry in memory, one call at a time, each taking a little while (so syncs overlap). */
export class MemoryRegistry extends ServiceByServiceBackend {
  readonly description = 'memory';
  /** service id -> the service as registered. */
  readonly entries = new Map<string, Service>();
  readonly calls: string[] = [];
  async ping(): Promise<void> {}
  async register(service: Service): Promise<void> {
    await sleep(2);
    this.calls.push(`register ${service.id} for ${service.origin.containerId.slice(0, 1)}`);
    this.entries.set(service.id, service);
  }
  async deregister(service: Service): Promise<void> {
    await sleep(2);
    this.calls.push(`deregister ${service.id} for ${service.origin.containerId.slice(0, 1)}`);
    // A guarded deletion: only while it still holds what this container wrote.
    if (this.entries.get(service.id)?.origin.containerId === service.origin.containerId) this.entries.delete(service.id);
  }
  async refresh(): Promise<void> {}
  async owned(): Promise<OwnedService[]> {
    return [...this.entries.values()].map((service) => ({ service, intact: true }));
  }
  async close(): Promise<void> {}
}
