import { type Container, type ContainerState, inactiveReason, isHeld } from '../docker/container';
import type { Logger } from '../log';
import { WarnOnce } from '../warn-once';
import type { Writer } from '../writer';
import type { Backend, UnreadableRecord } from './backend';
import type { LeftOut, Service, ServiceAction, ServiceModelOptions } from './service';
import { containerServices } from './service-model';
import { planServices } from './service-plan';
import type { RegistryUri } from './uri';

export interface ServiceWriterOptions {
  model: ServiceModelOptions;
  /** `-deregister`: `always`, or `on-success` (keep a container that exited with an error registered). */
  deregister: 'always' | 'on-success';
  /**
   * `-cleanup`: after each reconciliation, deregister containers kept by `-deregister on-success`
   * and remove this host's dangling services from the registry (see Backend.removeDangling).
   */
  cleanup?: boolean;
}

/**
 * The writer name of the registry URI at `index`: `writer.<scheme>`, and `writer.<scheme>.<n>` for
 * the n-th of one scheme, so logs, metrics and /healthz tell two registries of one scheme apart.
 */
export function serviceWriterName(uris: readonly RegistryUri[], index: number): string {
  const scheme = uris[index].scheme;
  const nth = uris.slice(0, index).filter((u) => u.scheme === scheme).length + 1;
  return nth === 1 ? `writer.${scheme}` : `writer.${scheme}.${nth}`;
}

/**
 * Exited with an error under `-deregister on-success`, restarting or not: stays registered until it is
 * removed or runs again. Exit 0, death by a signal (status > 128) or a vanished container deregister
 * (docs/registrator.md, "Services").
 */
function keepsRegistration(container: Container | null, mode: ServiceWriterOptions['deregister']): boolean {
  if (mode !== 'on-success' || !container || container.state.running) return false;
  const code = container.state.exitCode;
  return code !== 0 && code <= 128;
}

/** Running, healthy or not: the container whose services a sync works out. */
function runs(state: ContainerState): state is ContainerState & { container: Container } {
  return state.container?.state.running === true;
}

/** What a sync would do for one container. */
export interface ServicePlan {
  /** Exited with an error under `-deregister on-success`: its services stay as they are. */
  kept: boolean;
  /** The steps, in order (see planServices). */
  actions: ServiceAction[];
  /** The services the container should have in this registry (held once the steps are taken). */
  wanted: Service[];
  /** Services of a running container that this registry skips, and why; absent when it does not run. */
  warnings?: string[];
  /** Metadata of registered services that this registry leaves out, and why. */
  notes?: string[];
  /** Services of a Swarm service's routing mesh this container wants while another task of it on this host holds them. */
  standby?: Service[];
  /** What the model leaves out without a warning, and services held back for the container's health (`registrator explain`, /status). */
  leftOut?: LeftOut[];
}

/**
 * A service one of several containers gives alike, registered once: a port a Swarm service publishes
 * through the routing mesh, which each of its tasks on this host gives at the node's address.
 */
function isShared(service: Service): boolean {
  return service.origin.swarm?.ingress === true;
}

/**
 * Keeps one registry backend in step with this host's containers: per container, the services the
 * service model gives, registered when new or changed and deregistered when gone. What this host
 * holds there is the backend's book, the one owner of it: the writer plans from it, the backend keeps it.
 */
export class ServiceWriter implements Writer {
  readonly name: string;
  /** Held services whose keys the registry no longer holds as written: registered again if still wanted. */
  private broken = new Set<Service>();
  /** Warnings already logged per container, so a resync does not repeat them. */
  private readonly warned = new WarnOnce({ emptyForgets: false });
  /** What was last said per topic of the whole registry (services taken over, unreadable records). */
  private readonly said = new WarnOnce({ emptyForgets: true });
  /** Containers that exited with an error and stay registered under `-deregister on-success`. */
  private readonly kept = new Set<string>();
  /** Each running container's last plan, with its name (the status page). */
  private readonly lastPlans = new Map<string, { name: string; plan: ServicePlan }>();
  /** Shared services (isShared) by service id: the container whose registration it is. */
  private sharedOwner = new Map<string, string>();
  /** Shared services by service id: every container that gives it, with the form it gives. */
  private readonly sharedWanted = new Map<string, Map<string, Service>>();
  /** Syncs of Swarm tasks run one after another, so a shared service passes from task to task in order. */
  private sharedSyncs: Promise<void> = Promise.resolve();
  /** Ownership records the last load could not read: removed after the reconciliation. */
  private unreadable: readonly UnreadableRecord[] = [];

  constructor(
    private readonly backend: Backend,
    private readonly options: ServiceWriterOptions,
    private readonly log: Logger,
    name: string,
  ) {
    this.name = name;
  }

  async loadHeld(): Promise<void> {
    const broken = new Set<Service>();
    const takenOver: string[] = [];
    const { owned, unreadable } = await this.backend.load();
    for (const { service, intact, takenOver: taken } of owned) {
      if (!intact) broken.add(service);
      if (taken) takenOver.push(service.id);
    }
    this.broken = broken;
    this.unreadable = unreadable;
    this.sharedOwner = new Map();
    for (const s of this.backend.book.services()) if (isShared(s)) this.sharedOwner.set(s.id, s.origin.containerId);
    if (this.said.isNew('takenOver', takenOver.join(' '))) {
      this.log.warn(
        'services whose keys a later registration (another container or host with ' +
          'the same ID) has written: it wins; these stand by until it is removed',
        { services: takenOver },
      );
    }
    if (this.said.isNew('unreadable', unreadable.map((r) => r.key).join(' '))) {
      this.log.warn('ownership records that are not a service: skipped, removed after this reconciliation', {
        keys: unreadable.map((r) => r.key),
      });
    }
  }

  heldIds(): Iterable<string> {
    return this.backend.book.containerIds();
  }

  /** Per container: the services held, and its last plan while it runs (the status page). No I/O. */
  statusView(): Array<{ containerId: string; held: Service[]; last?: { name: string; plan: ServicePlan } }> {
    const book = this.backend.book;
    const ids = [...new Set([...book.containerIds(), ...this.lastPlans.keys()])];
    return ids.map((id) => ({ containerId: id, held: [...book.servicesOf(id).values()], last: this.lastPlans.get(id) }));
  }

  async sync(state: ContainerState): Promise<void> {
    const task = state.container?.swarm !== undefined;
    if (!task && ![...this.backend.book.servicesOf(state.id).values()].some(isShared)) return this.syncNow(state);
    const run = this.sharedSyncs.then(() => this.syncNow(state));
    this.sharedSyncs = run.catch(() => undefined);
    return run;
  }

  private async syncNow(state: ContainerState): Promise<void> {
    const plan = this.plan(state);
    if (runs(state)) this.lastPlans.set(state.id, { name: state.container.name, plan });
    else this.lastPlans.delete(state.id);
    if (plan.kept) {
      this.kept.add(state.id);
      return;
    }
    this.kept.delete(state.id);
    if (plan.warnings) this.warnOnce(state.id, plan.warnings, plan.notes ?? []);
    else this.warned.forget(state.id);
    this.noteShared(state.id, plan);
    // The backend carries the steps out (an etcd registry in one transaction) and books them.
    await this.backend.apply(plan.actions);
    for (const action of plan.actions) {
      const { service } = action;
      switch (action.kind) {
        case 'refresh':
          this.broken.delete(action.previous);
          this.log.info('health reported', { service: service.id, health: service.origin.health ?? 'none', container: state.id });
          break;
        case 'rewrite':
          this.broken.delete(service);
          this.log.info('registered again', { service: service.id, container: state.id });
          break;
        case 'deregister':
          this.broken.delete(service);
          this.log.info('deregistered', { service: service.id, container: state.id });
          break;
        case 'register':
          // A shared service handed over to another task is booked for that task's container (its syncs wait for this one).
          this.log.info('registered', {
            service: service.id,
            name: service.name,
            address: `${service.ip}:${service.port}`,
            container: state.id,
          });
          break;
      }
    }
  }

  /** Records which containers give which shared services, and whose registration each is once `plan` is carried out. */
  private noteShared(containerId: string, plan: ServicePlan): void {
    const gives = new Map<string, Service>();
    for (const s of [...plan.wanted, ...(plan.standby ?? [])]) if (isShared(s)) gives.set(s.id, s);
    for (const [id, wanters] of this.sharedWanted) {
      if (!gives.has(id)) wanters.delete(containerId);
      if (wanters.size === 0) this.sharedWanted.delete(id);
    }
    for (const [id, s] of gives) {
      if (!this.sharedWanted.has(id)) this.sharedWanted.set(id, new Map());
      this.sharedWanted.get(id)!.set(containerId, s);
    }
    for (const action of plan.actions) {
      if (!isShared(action.service)) continue;
      if (action.kind === 'deregister') {
        if (this.sharedOwner.get(action.service.id) === containerId) this.sharedOwner.delete(action.service.id);
      } else {
        this.sharedOwner.set(
          action.service.id,
          action.service.origin.containerId === containerId ? containerId : action.service.origin.containerId,
        );
      }
    }
  }

  /** What `sync` would do for this container, from what this writer holds; no I/O (`registrator diff`). */
  plan(state: ContainerState): ServicePlan {
    const active = isHeld(state);
    if (!active && keepsRegistration(state.container, this.options.deregister)) return { kept: true, actions: [], wanted: [] };
    const wanted = new Map<string, Service>();
    let warnings: string[] | undefined;
    let leftOut: LeftOut[] | undefined;
    const notes: string[] = [];
    // A running container that is not healthy keeps the services whose registry reports its health.
    if (runs(state)) {
      const result = containerServices(state.container, this.options.model);
      warnings = [...result.warnings];
      leftOut = [...result.leftOut];
      for (const s of result.services) {
        if (!active && !this.backend.followsDockerHealth(s)) {
          leftOut.push({ what: `service ${s.id}`, reason: inactiveReason(state.container) ?? 'the container is not active' });
          continue;
        }
        const admission = this.backend.admit(s);
        if ('concerned' in admission) continue;
        const where = `${s.origin.containerName} port ${s.origin.exposedPort}/${s.origin.proto}`;
        if ('rejected' in admission) warnings.push(`${where}: ${admission.rejected}`);
        else {
          wanted.set(s.id, s);
          for (const note of admission.notes) notes.push(`${where}: ${note}`);
        }
      }
    }
    // A shared service another container holds stays its registration: this one stands by.
    const standby: Service[] = [];
    for (const s of [...wanted.values()]) {
      const owner = isShared(s) ? this.sharedOwner.get(s.id) : undefined;
      if (owner !== undefined && owner !== state.id) {
        wanted.delete(s.id);
        standby.push(s);
      }
    }
    const actions = planServices({
      held: this.backend.book.servicesOf(state.id),
      wanted,
      broken: this.broken,
      followsDockerHealth: (s) => this.backend.followsDockerHealth(s),
    });
    // A shared service this container gives up passes to another container that gives it, if one does.
    for (const action of [...actions]) {
      if (action.kind !== 'deregister' || !isShared(action.service) || wanted.has(action.service.id)) continue;
      const next = [...(this.sharedWanted.get(action.service.id) ?? [])].find(([containerId]) => containerId !== state.id);
      if (next) actions.push({ kind: 'register', service: next[1] });
    }
    return { kept: false, actions, wanted: [...wanted.values()], warnings, notes, standby, ...(leftOut ? { leftOut } : {}) };
  }

  ping(): Promise<void> {
    return this.backend.ping();
  }

  /**
   * What `-cleanup` deregisters after a reconciliation whose syncs had these plans (`registrator diff`):
   * the services held for containers kept by `-deregister on-success`. No I/O.
   */
  planCleanup(plans: ReadonlyMap<string, ServicePlan>): ServiceAction[] {
    if (!this.options.cleanup) return [];
    return [...plans].flatMap(([id, plan]) =>
      plan.kept ? [...this.backend.book.servicesOf(id).values()].map((service) => ({ kind: 'deregister' as const, service })) : [],
    );
  }

  async afterReconcile(): Promise<void> {
    const unreadable = this.unreadable;
    if (unreadable.length > 0) {
      await this.backend.removeRecords(unreadable);
      this.unreadable = this.unreadable.filter((r) => !unreadable.includes(r));
      this.log.info('removed ownership records that were not a service', { keys: unreadable.map((r) => r.key) });
    }
    if (this.backend.exclusive) await this.pruneUnheld('removed stale entries');
    if (!this.options.cleanup) return;
    for (const id of [...this.kept]) {
      for (const service of this.backend.book.servicesOf(id).values()) {
        await this.backend.apply([{ kind: 'deregister', service }]);
        this.log.info('deregistered (-cleanup: container exited)', { service: service.id, container: id });
      }
      this.kept.delete(id);
    }
    if (!this.backend.exclusive) await this.pruneUnheld('removed dangling services (-cleanup)');
  }

  private async pruneUnheld(message: string): Promise<void> {
    const removed = await this.backend.removeDangling(this.backend.book.services());
    if (removed.length > 0) this.log.info(message, { registry: this.backend.description, removed });
  }

  async removeHostData(): Promise<void> {
    await this.backend.clear();
    this.sharedOwner.clear();
    this.log.info("deleted this host's registrations", { registry: this.backend.description });
  }

  /** SIGUSR2: registries that are purged (hamesh) lose every host's data; the refill re-registers ours. */
  async purgeAll(): Promise<void> {
    await this.backend.purge();
    // Ownership records survive the purge; the refill's reload finds their keys gone and rewrites them.
    if (this.backend.book.size === 0) this.sharedOwner.clear();
  }

  /** Closes what the backend opened itself (watches, a lease's keep-alive, its own connections). */
  async close(): Promise<void> {
    await this.backend.close();
  }

  describeHostData(): string {
    return `up to ${this.backend.book.size} services in ${this.backend.description}`;
  }

  private warnOnce(containerId: string, warnings: string[], notes: string[]): void {
    const text = [...warnings, ...notes].join('; ');
    if (!this.warned.isNew(containerId, text)) return;
    for (const warning of warnings) this.log.warn('service skipped', { container: containerId, reason: warning });
    for (const note of notes) this.log.warn('service registered with a warning', { container: containerId, reason: note });
  }
}
