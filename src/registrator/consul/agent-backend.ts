import type { Logger } from '../../log';
import { WarnOnce } from '../../warn-once';
import type { Admission, OwnedService } from '../backend';
import { ServiceByServiceBackend } from '../service-by-service';
import type { ContainerHealth, Service } from '../service';
import { AttrWarning, dockerHealthCheckId, dockerHealthOutput, dockerHealthStatus, hasDockerHealthCheck } from './checks';
import { ConsulClient, segment } from './client';
import { OWNER_HOST_KEY, serviceFromMeta } from './meta';
import { agentRegistration, registrationCheckIds, registrationProblem } from './registration';

/** A service as `GET /v1/agent/services` and `GET /v1/agent/service/<id>` describe it (the fields used here). */
interface AgentService {
  ID: string;
  Service: string;
  Tags: string[] | null;
  Meta: Record<string, string> | null;
  Port: number;
  Address: string;
}

/** A check as `GET /v1/agent/checks` describes it (the fields used here). */
interface AgentCheck {
  CheckID: string;
  ServiceID: string;
  Status: string;
}

export interface ConsulAgentBackendOptions {
  /** The daemon's host name: the ownership marker `registrator_host` in each service's Meta. */
  host: string;
  description: string;
  log: Logger;
  /** How often the docker-health statuses are sent again (default 10 s, a third of their 30 s TTL). */
  keepaliveMs?: number;
}

/** Default period of the docker-health keepalive: a third of DOCKER_HEALTH_TTL. */
const DOCKER_HEALTH_KEEPALIVE_MS = 10_000;

/**
 * consul://, consul-tls://, consul-unix://: one agent service per service, through the agent API
 * (docs/registrator.md). The service's Meta carries the ownership marker (meta.ts), so `owned()` finds this
 * host's registrations (and only those) in the agent, with the service exactly as registered.
 */
export class ConsulAgentBackend extends ServiceByServiceBackend {
  readonly description: string;
  /** Warnings already logged per service ID, so a refresh or a re-registration does not repeat them. */
  private readonly warned = new WarnOnce({ emptyForgets: false });
  /** This host's services with a docker-health check, as last registered: their status is sent again periodically. */
  private readonly keepalive = new Map<string, Service>();
  private keepaliveTimer?: NodeJS.Timeout;
  private keepaliveRunning = false;
  private keepaliveFailing = false;
  private closed = false;

  constructor(
    private readonly client: ConsulClient,
    private readonly options: ConsulAgentBackendOptions,
  ) {
    super();
    this.description = options.description;
  }

  async ping(): Promise<void> {
    await this.client.leader();
  }

  reject(service: Service): string | undefined {
    return registrationProblem(service);
  }

  override admit(service: Service): Admission {
    const rejected = this.reject(service);
    return rejected ? { rejected } : { notes: [] };
  }

  /** `PUT /v1/agent/service/register?replace-existing-checks`, then the docker-health status when it has that check. */
  async register(service: Service): Promise<void> {
    const { registration, warnings } = agentRegistration(service, this.options.host);
    this.logWarnings(service, warnings);
    await this.client.request('PUT', '/v1/agent/service/register', { json: registration, query: { 'replace-existing-checks': true } });
    // A re-registration keeps a check's old status in Consul; say the current one explicitly.
    if (hasDockerHealthCheck(service)) await this.setDockerHealth(service);
    this.track(service);
  }

  /**
   * Sets the docker-health check to passing (Docker says healthy) or critical (starting, unhealthy)
   * and restarts its TTL (`PUT /v1/agent/check/update/<id>`). Resolves false when the service has no
   * such check.
   */
  async setDockerHealth(service: Service, health: ContainerHealth | undefined = service.origin.health): Promise<boolean> {
    if (!hasDockerHealthCheck(service)) return false;
    await this.client.request('PUT', `/v1/agent/check/update/${segment(dockerHealthCheckId(service.id))}`, {
      json: { Status: dockerHealthStatus(health), Output: dockerHealthOutput(health) },
    });
    return true;
  }

  /** Removes the service unless the agent holds it for another host (or it is gone already). */
  async deregister(service: Service): Promise<void> {
    const path = `/v1/agent/service/${segment(service.id)}`;
    const current = await this.client.json<AgentService>('GET', path, { accept: [404] });
    if (current && current.Meta?.[OWNER_HOST_KEY] !== this.options.host) {
      this.options.log.warn('left in place: the agent holds this service ID for another host', {
        service: service.id,
        owner: current.Meta?.[OWNER_HOST_KEY] ?? null,
      });
    } else if (current) {
      await this.client.request('PUT', `/v1/agent/service/deregister/${segment(service.id)}`, { accept: [404] });
    }
    this.warned.forget(service.id);
    this.keepalive.delete(service.id);
  }

  override followsDockerHealth(service: Service): boolean {
    return hasDockerHealthCheck(service);
  }

  /**
   * Writes the service again (the agent may have lost it, and its Meta follows the service), then
   * re-sends the docker-health status, which also restarts that check's TTL: call it whenever
   * Docker's health changes. Between calls the backend itself sends the last status every 10 s.
   */
  async refresh(service: Service): Promise<void> {
    await this.register(service);
  }

  async owned(): Promise<OwnedService[]> {
    const services = (await this.client.json<Record<string, AgentService>>('GET', '/v1/agent/services')) ?? {};
    const mine = Object.values(services).filter((s) => s?.Meta?.[OWNER_HOST_KEY] === this.options.host);
    if (mine.length === 0) return [];
    const checks = (await this.client.json<Record<string, AgentCheck>>('GET', '/v1/agent/checks')) ?? {};
    const owned: OwnedService[] = [];
    for (const held of mine) {
      const service = serviceFromMeta(held.Meta);
      if (!service) {
        this.options.log.warn("agent service marked as this host's has no readable service record; left alone", { service: held.ID });
        continue;
      }
      const expected = agentRegistration(service, this.options.host).registration;
      const intact =
        held.ID === expected.ID &&
        held.Service === expected.Name &&
        held.Port === expected.Port &&
        held.Address === expected.Address &&
        sameList(held.Tags ?? [], expected.Tags) &&
        sameMeta(held.Meta ?? {}, expected.Meta) &&
        registrationCheckIds(expected).every((id) => checks[id]?.ServiceID === held.ID);
      owned.push({ service, intact });
      // Registered before a restart: its docker-health status needs sending again all the same.
      if (!this.keepalive.has(service.id)) this.track(service);
    }
    return owned;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.client.close();
  }

  /** Keeps (or stops keeping) a service's docker-health status alive. */
  private track(service: Service): void {
    if (!hasDockerHealthCheck(service)) {
      this.keepalive.delete(service.id);
      return;
    }
    this.keepalive.set(service.id, service);
    if (this.keepaliveTimer || this.closed) return;
    this.keepaliveTimer = setInterval(() => void this.sendKeepalive(), this.options.keepaliveMs ?? DOCKER_HEALTH_KEEPALIVE_MS);
    this.keepaliveTimer.unref();
  }

  /**
   * Sends every tracked docker-health status again, so the TTL checks stay current between
   * registrations and refreshes. A failure is logged once until the next success; the next
   * reconciliation re-registers a service the agent lost.
   */
  private async sendKeepalive(): Promise<void> {
    if (this.keepaliveRunning) return;
    this.keepaliveRunning = true;
    try {
      let failed: unknown;
      for (const service of [...this.keepalive.values()]) {
        if (this.closed) return;
        try {
          await this.setDockerHealth(service);
        } catch (err) {
          failed ??= err;
        }
      }
      if (failed !== undefined && !this.keepaliveFailing) this.options.log.warn('docker-health status not sent; retrying', { err: failed });
      else if (failed === undefined && this.keepaliveFailing) this.options.log.info('docker-health statuses sent again');
      this.keepaliveFailing = failed !== undefined;
    } finally {
      this.keepaliveRunning = false;
    }
  }

  private logWarnings(service: Service, warnings: AttrWarning[]): void {
    if (!this.warned.isNew(service.id, warnings.length === 0 ? '' : JSON.stringify(warnings))) return;
    for (const w of warnings) {
      this.options.log.warn('service attribute not used as given', {
        container: service.origin.containerName,
        containerId: service.origin.containerId,
        service: service.id,
        key: w.key,
        reason: w.reason,
      });
    }
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameMeta(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
