/**
 * The container engine, as the daemon sees it: a container as the engine describes it and the facts
 * read from that (pure), then the containers running, a fresh inspect of one, and the event stream that
 * says which to look at again. All of the daemon's Docker I/O is in this file (GETs and one long-lived
 * event stream; nothing is ever written to the engine).
 */
import type Docker from 'dockerode';
import type { ContainerInspectInfo, Service as DockerService } from 'dockerode';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../log';

// --- A container as the engine describes it, and the facts read from it (pure) ---

/**
 * A container as Docker's inspect gives it. For `--net=container:<ref>` the daemon adds, under a name
 * Docker does not use, the inspect of <ref> (`null`: it is gone), so the service model can register
 * at that container's address without doing I/O itself (see inspectState). For a Swarm task it adds
 * the inspect of the task's Swarm service the same way (`null`: Docker would not give it).
 */
export type ContainerInfo = ContainerInspectInfo & {
  networkContainer?: ContainerInspectInfo | null;
  swarmService?: SwarmServiceInfo | null;
};

/** What the service model reads of a Swarm service's inspect (`GET /services/<id>`). */
export type SwarmServiceInfo = Pick<DockerService, 'ID' | 'Spec' | 'Endpoint'>;

/** The label Docker puts on a Swarm task's container naming the task's service by ID. */
export const SWARM_SERVICE_ID_LABEL = 'com.docker.swarm.service.id';

/** The Swarm service a container is a task of (its ID), if any. */
export function swarmServiceRef(c: ContainerInspectInfo): string | undefined {
  const id = c.Config?.Labels?.[SWARM_SERVICE_ID_LABEL];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The container whose network this one shares (`--net=container:<ref>`, `<ref>` an ID or a name), if any. */
export function networkContainerRef(c: ContainerInspectInfo): string | undefined {
  const mode = String(c.HostConfig?.NetworkMode ?? '');
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/** Running (and not restarting), whatever its health. */
export function isRunning(c: ContainerInfo): boolean {
  return Boolean(c.State?.Running) && !c.State?.Restarting;
}

/**
 * The container's health status (`starting`, `healthy`, `unhealthy`); undefined when it has no health
 * check. Docker leaves `State.Health` out (or says `none`) then; Podman sends `Health.Status: ""`.
 */
export function healthStatus(c: ContainerInfo): string | undefined {
  const status = (c.State as { Health?: { Status?: unknown } } | undefined)?.Health?.Status;
  return typeof status === 'string' && status !== '' && status !== 'none' ? status : undefined;
}

/**
 * Whether writers should hold this container (docs/mirror.md, "The Docker watcher"): running (paused counts), not restarting,
 * and, when it has a HEALTHCHECK, currently `healthy` (`starting`/`unhealthy` count as not running).
 */
export function isActive(c: ContainerInfo): boolean {
  if (!isRunning(c)) return false;
  const health = healthStatus(c);
  return health === undefined || health === 'healthy';
}

/** Container name as the user knows it (inspect gives "/name"); `''` when the inspect has none. */
export function containerName(c: ContainerInfo): string {
  return typeof c?.Name === 'string' ? c.Name.replace(/^\//, '') : '';
}

/** The address fields Docker reports per network (and, for the default bridge, at the top level). */
export type AddressField = 'IPAddress' | 'GlobalIPv6Address';

/**
 * Where to look for an address once the default bridge has none: the first network by name that has
 * one (`by-name`), or first the network the container was started on (its `HostConfig.NetworkMode`).
 */
export type NetworkFallback = 'by-name' | 'own-network-then-by-name';

/**
 * One address of the container (`field`): its default-bridge value, else per `fallback`; `''` when
 * no network has one. A network without that address (IPv6-only, or still being attached) does not
 * hide the next one.
 *
 * The two fallbacks are two documented rules, which differ for a container on several networks.
 * The mirror's `network/ip` is `by-name` (docs/mirror.md, "IP"): `docker network connect` to a network
 * that sorts first changes it. The service model's addresses are `own-network-then-by-name`: they stay
 * on the network the container was started on, whatever it is connected to later.
 */
export function networkAddress(c: ContainerInfo, field: AddressField, fallback: NetworkFallback): string {
  // The top-level fields are the default bridge's; newer API typings dropped them, engines still send them.
  const settings = c.NetworkSettings as (ContainerInfo['NetworkSettings'] & Partial<Record<AddressField, string>>) | undefined;
  if (settings?.[field]) return settings[field]!;
  const networks = (settings?.Networks ?? {}) as Record<string, Partial<Record<AddressField, string>> | undefined>;
  if (fallback === 'own-network-then-by-name') {
    const own = networks[String(c.HostConfig?.NetworkMode ?? '')]?.[field];
    if (own) return own;
  }
  for (const name of Object.keys(networks).sort()) {
    const address = networks[name]?.[field];
    if (address) return address;
  }
  return '';
}

/** A key of Docker's port maps (`80/tcp`, `53/udp`, a bare `80`), its parts as written. */
export interface PortKey {
  /** The port's digits as written (`080` stays `080`). */
  digits: string;
  port: number;
  /** The protocol as written; absent for a bare port. */
  proto?: string;
}

/**
 * Splits a key of `NetworkSettings.Ports` / `Config.ExposedPorts`; undefined when it is not digits
 * with an optional `/<protocol>`. Docker's API stores any string there, so the range and the
 * protocols that are usable are the caller's to judge.
 */
export function parsePortKey(key: string): PortKey | undefined {
  const match = /^(\d+)(?:\/([A-Za-z0-9]+))?$/.exec(key);
  if (!match) return undefined;
  const [, digits, proto] = match;
  return { digits, port: Number(digits), proto };
}

/**
 * An inspect as Docker words it, whichever engine answered (docs/podman.md): a port published on
 * every address has `HostIp` `0.0.0.0`, where Podman sends `""`. Everything else is left as it came.
 */
export function normalizeInspect(c: ContainerInspectInfo): ContainerInspectInfo {
  const ports = c.NetworkSettings?.Ports as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | undefined;
  if (!ports) return c;
  const unset = (b: { HostIp?: string; HostPort?: string } | null | undefined) =>
    b && typeof b === 'object' && b.HostIp === '' && b.HostPort;
  if (!Object.values(ports).some((bindings) => Array.isArray(bindings) && bindings.some(unset))) return c;
  const fixed = Object.fromEntries(
    Object.entries(ports).map(([key, bindings]) => [
      key,
      Array.isArray(bindings) ? bindings.map((b) => (unset(b) ? { ...b, HostIp: '0.0.0.0' } : b)) : bindings,
    ]),
  );
  return { ...c, NetworkSettings: { ...c.NetworkSettings, Ports: fixed } as ContainerInspectInfo['NetworkSettings'] };
}

/** True when Docker answered 404 (the container is gone). */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === 404;
}

// --- The engine's I/O ---

/** A subscription to container events: handed on from `start()` until `stop()`. */
export interface EventWatch {
  start(): void;
  /** Resolves once the subscription is closed and no reconnect is pending. */
  stop(): Promise<void>;
  /** Whether events are subscribed right now (false while connecting, reconnecting or stopped). */
  readonly subscribed: boolean;
}

/**
 * The container engine as the daemon uses it: which containers run, what one of them is now, and
 * what happens to them. Docker is the one engine in production; tests drive the daemon with their own.
 */
export interface ContainerEngine {
  /** Ids of the containers running now. */
  list(): Promise<string[]>;
  /** A fresh inspect of one container: what writers should hold for it (`info` null: it is gone). */
  inspect(id: string): Promise<ContainerState>;
  /** Hands container events and every (re)subscription to `handlers`, once started. */
  watch(handlers: WatcherHandlers): EventWatch;
  /** Ids of the running containers that are tasks of this Swarm service (a GET); absent: the engine has no Swarm. */
  serviceTasks?(serviceId: string): Promise<string[]>;
}

/**
 * Docker (or Podman's Docker-compatible API) through dockerode: the list and inspects are GETs, the
 * events one long-lived stream (DockerWatcher). What each inspect finds of a container's health check
 * is noted for Podman's health poll (HealthChecks) when there is one (`healthPollMs` > 0).
 */
export function dockerEngine(docker: Docker, log: Logger, options: WatcherOptions = {}): ContainerEngine {
  const health = (options.healthPollMs ?? 0) > 0 ? new HealthChecks() : undefined;
  return {
    list: async () => (await docker.listContainers()).map((c) => c.Id),
    inspect: async (id) => {
      const state = await inspectState(docker, id);
      return health ? health.saw(state) : state;
    },
    watch: (handlers) => new DockerWatcher(docker, handlers, log, { ...options, health }),
    serviceTasks: async (serviceId) =>
      (await docker.listContainers({ filters: { label: [`${SWARM_SERVICE_ID_LABEL}=${serviceId}`] } })).map((c) => c.Id),
  };
}

/** What the daemon learned about one container from a fresh inspect. */
export interface ContainerState {
  id: string;
  /** The inspect result; null when Docker answered 404 (the container is gone). */
  info: ContainerInfo | null;
  /** Whether writers should hold it (running, and healthy when it has a HEALTHCHECK). */
  active: boolean;
}

/**
 * Inspects one container (a GET): what writers should hold for it; a 404 means it is gone. A running
 * container that shares another's network (`--net=container:<ref>`) has <ref> inspected too (a GET),
 * since its services are registered at that container's address.
 */
export async function inspectState(docker: Docker, id: string): Promise<ContainerState> {
  let info: ContainerInfo;
  try {
    info = normalizeInspect(await docker.getContainer(id).inspect());
  } catch (err) {
    if (isNotFound(err)) return { id, info: null, active: false };
    throw err;
  }
  const ref = networkContainerRef(info);
  if (ref !== undefined && isRunning(info)) info = { ...info, networkContainer: await inspectNetworkContainer(docker, ref) };
  const service = swarmServiceRef(info);
  if (service !== undefined && isRunning(info)) info = { ...info, swarmService: await inspectSwarmService(docker, service) };
  return { id, info, active: isActive(info) };
}

/**
 * A Swarm task's service (a GET); null when Docker answers with an error: the service is gone, or this
 * node is not a Swarm manager (only managers answer for services).
 */
async function inspectSwarmService(docker: Docker, id: string): Promise<SwarmServiceInfo | null> {
  try {
    return (await docker.getService(id).inspect()) as SwarmServiceInfo;
  } catch (err) {
    if (typeof (err as { statusCode?: unknown })?.statusCode === 'number') return null;
    throw err;
  }
}

/** The network container's inspect; null when Docker answers that it has none by that reference. */
async function inspectNetworkContainer(docker: Docker, ref: string): Promise<ContainerInfo | null> {
  if (ref === '') return null;
  try {
    return normalizeInspect(await docker.getContainer(ref).inspect());
  } catch (err) {
    // Any answer from Docker (404, or 400/500 for a reference it cannot use) concerns this container
    // only: it gets no services and a warning. No answer at all is Docker being away: retried.
    if (typeof (err as { statusCode?: unknown })?.statusCode === 'number') return null;
    throw err;
  }
}

/** Container actions the watcher acts on (docs/mirror.md, "The Docker watcher"). */
export const CONTAINER_ACTIONS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update'] as const;
/**
 * Network actions the watcher acts on: `docker network connect`/`disconnect` change a container's
 * addresses, so the container they name (`Actor.Attributes.container`) is synced again.
 */
export const NETWORK_ACTIONS = ['connect', 'disconnect'] as const;
/** Every action handled; anything else is ignored. */
export const HANDLED_ACTIONS = [...CONTAINER_ACTIONS, ...NETWORK_ACTIONS] as const;
export type HandledAction = (typeof HANDLED_ACTIONS)[number];

/**
 * Podman's own names for two container actions (docs/podman.md): its event filter matches these, not
 * Docker's, and a stream may carry them (Podman 4.3's compatible API says `remove` for `destroy`).
 */
const PODMAN_ACTIONS: Readonly<Record<string, HandledAction>> = { died: 'die', remove: 'destroy' };

/** The engine behind the Docker API: Docker itself, or Podman's compatible service. */
export type EngineKind = 'docker' | 'podman';

/**
 * Which engine answered, from the headers of its answer to `GET /events`: Podman's service sends
 * `Libpod-Api-Version` (and `Server: Libpod/<version>`), dockerd `Server: Docker/<version>`.
 */
export function engineKindOf(headers: unknown): EngineKind {
  const h = (headers ?? {}) as Record<string, unknown>;
  return typeof h['libpod-api-version'] === 'string' || /^libpod\//i.test(String(h.server ?? '')) ? 'podman' : 'docker';
}

/**
 * The server-side filter for the event subscription. Filters are ANDed across keys: network events
 * other than connect/disconnect (a network's destroy) get through as well and are ignored by
 * parseEventLine. Podman matches `event` values against its own action names, so `die` and `destroy`
 * are asked for as `died` and `remove` there (asked for as Docker names them, Podman sends neither).
 */
export function eventFilters(kind: EngineKind): { type: Array<'container' | 'network' | 'service'>; event: string[] } {
  const podmanName = Object.fromEntries(Object.entries(PODMAN_ACTIONS).map(([podman, docker]) => [docker, podman]));
  const event = kind === 'podman' ? HANDLED_ACTIONS.map((a) => podmanName[a] ?? a) : [...HANDLED_ACTIONS];
  // Filters are ANDed across keys: network events other than connect/disconnect (a network's destroy)
  // and service actions other than update get through as well and are ignored by parseEventLine.
  return { type: ['container', 'network', 'service'], event };
}

/** A network event's action: a hint only for a container that runs (see Daemon.onEvent). */
export function isNetworkAction(action: HandledAction): action is (typeof NETWORK_ACTIONS)[number] {
  return (NETWORK_ACTIONS as readonly string[]).includes(action);
}

export interface ContainerEvent {
  /** The container to sync (for a network event, the one it names). */
  id: string;
  action: HandledAction;
}

export type ParsedEventLine =
  | { kind: 'event'; event: ContainerEvent }
  | { kind: 'service'; serviceId: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

interface RawEvent {
  Type?: unknown;
  Action?: unknown;
  status?: unknown;
  id?: unknown;
  Actor?: { ID?: unknown; Attributes?: { container?: unknown } | null };
}

/**
 * Reads one event line. `health_status: healthy` counts as `health_status`; Podman's `died` and
 * `remove` count as `die` and `destroy`; `exec_*` and other actions are ignored; a network
 * `connect`/`disconnect` is an event of the container it names; a line that is not an event JSON
 * object, or names no container, is malformed.
 */
export function parseEventLine(line: string): ParsedEventLine {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (typeof data !== 'object' || data === null) return { kind: 'malformed', reason: 'not an object' };
  const e = data as RawEvent;
  const type = e.Type ?? 'container';
  if (type === 'network') return networkEvent(e);
  if (type === 'service') return serviceEvent(e);
  if (type !== 'container') return { kind: 'ignored', reason: `type ${String(type)}` };
  const rawAction = typeof e.Action === 'string' ? e.Action : typeof e.status === 'string' ? e.status : undefined;
  const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : typeof e.id === 'string' ? e.id : undefined;
  if (rawAction === undefined || id === undefined || !CONTAINER_ID.test(id)) {
    return { kind: 'malformed', reason: 'no container id or action' };
  }
  const named = rawAction.split(':')[0].trim();
  const action = Object.hasOwn(PODMAN_ACTIONS, named) ? PODMAN_ACTIONS[named] : named;
  if (!(CONTAINER_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `action ${action}` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}

/**
 * A network event: `connect`/`disconnect` of the container in `Actor.Attributes.container`. Podman
 * sends no such attribute and gives the container's id as `Actor.ID` instead (docs/podman.md); a
 * network's id taken that way from another engine is harmless: no running container has it.
 */
function networkEvent(e: RawEvent): ParsedEventLine {
  const action = typeof e.Action === 'string' ? e.Action : undefined;
  if (action === undefined) return { kind: 'malformed', reason: 'network event without an action' };
  if (!(NETWORK_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `network action ${action}` };
  const attributes = e.Actor?.Attributes;
  const id = attributes && typeof attributes === 'object' && 'container' in attributes ? attributes.container : e.Actor?.ID;
  if (typeof id !== 'string' || !CONTAINER_ID.test(id)) return { kind: 'malformed', reason: `network ${action} without a container id` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}

/**
 * A Swarm service's `update` (its published ports may have changed): its tasks on this host are synced
 * again. Its tasks' starts and deaths are container events; other service actions are ignored.
 */
function serviceEvent(e: RawEvent): ParsedEventLine {
  if (e.Action !== 'update') return { kind: 'ignored', reason: `service action ${String(e.Action)}` };
  const id = e.Actor?.ID;
  if (typeof id !== 'string' || !/^[0-9a-z]{1,64}$/.test(id)) return { kind: 'malformed', reason: 'service update without a service id' };
  return { kind: 'service', serviceId: id };
}

/**
 * Splits Docker's event stream into JSON lines. Chunks arrive at arbitrary boundaries: a line
 * (or a multi-byte UTF-8 character) may be split across chunks, and one chunk may hold several lines.
 */
export class EventLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Feeds one chunk; returns the complete, non-empty lines it finished. */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }

  /** The stream ended: whatever is left is the last line (Docker ends lines with \n, so usually nothing). */
  end(): string[] {
    const rest = (this.pending + this.decoder.end()).trim();
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}

export interface WatcherHandlers {
  /** A container event arrived (a hint: the handler re-inspects). */
  onEvent(event: ContainerEvent): void;
  /**
   * The event subscription is (re)established: bring everything in step from a full list.
   * Called after every (re)connect, so nothing that happened while disconnected is missed.
   */
  onSubscribed(): Promise<void>;
  /** A Swarm service was updated (a hint: the handler syncs its tasks on this host). */
  onServiceEvent?(serviceId: string): void;
}

export interface WatcherOptions {
  /** First reconnect delay, doubled per failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** On Podman: the containers with a health check, polled every `healthPollMs` (see HealthChecks). */
  health?: HealthChecks;
  /** `-podman-health-poll`: milliseconds between two rounds of that poll; absent or 0: no poll at all. */
  healthPollMs?: number;
}

/**
 * The running containers that have a health check, each with the status the daemon last read for it
 * (what its writers were given), kept from every inspect. On Podman, whose `health_status` event comes
 * before the check's result is stored (and tells the status before it), DockerWatcher inspects these
 * every `-podman-health-poll` ms and hands a `health_status` event to the daemon for each whose status moved.
 */
export class HealthChecks {
  private readonly seen = new Map<string, string>();

  /** Notes what an inspect found; returns the state unchanged. */
  saw(state: ContainerState): ContainerState {
    const status = state.info && isRunning(state.info) ? healthStatus(state.info) : undefined;
    if (status === undefined) this.seen.delete(state.id);
    else this.seen.set(state.id, status);
    return state;
  }

  /** The containers noted, with the status last read for each. */
  entries(): Array<[id: string, status: string]> {
    return [...this.seen];
  }
}

/**
 * Follows Docker's container events and network connect/disconnect: subscribe first, then let the
 * daemon list and reconcile (no event can fall between the two); on a broken stream, reconnect with
 * capped exponential backoff and reconcile again. Never gives up while started.
 */
export class DockerWatcher {
  private stopped = true;
  private connected = false;
  private stream?: Readable;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** The engine of the current subscription (known once subscribed). */
  private kind?: EngineKind;
  private readonly health?: HealthChecks;
  private readonly healthPollMs: number;
  private healthLoop?: Promise<void>;
  private healthWake?: () => void;

  constructor(
    private readonly docker: Docker,
    private readonly handlers: WatcherHandlers,
    private readonly log: Logger,
    options: WatcherOptions = {},
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.health = options.health;
    this.healthPollMs = options.healthPollMs ?? 0;
  }

  /** Whether the event stream is subscribed right now (false while connecting, reconnecting or stopped). */
  get subscribed(): boolean {
    return this.connected;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
    if (this.health && this.healthPollMs > 0) this.healthLoop = this.pollHealthChecks(this.health);
  }

  /** Stops watching; resolves once the stream is closed and no reconnect is pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.destroy();
    this.wake?.();
    this.healthWake?.();
    await Promise.all([this.loop, this.healthLoop]);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let connectedAt = 0;
      try {
        // The filter is in the words of the engine that answered last time (Docker's at first). The
        // answer's headers say which engine it is: when it is another, subscribe again in its words
        // (before any reconcile, so no event falls between). Docker is asked nothing more than /events.
        let kind = this.kind ?? 'docker';
        let stream = await this.subscribe(kind);
        const answered = engineKindOf((stream as { headers?: unknown }).headers);
        if (answered !== kind) {
          stream.destroy();
          kind = answered;
          stream = await this.subscribe(kind);
        }
        if (this.stopped) {
          stream.destroy();
          break;
        }
        this.stream = stream;
        this.kind = kind;
        this.connected = true;
        connectedAt = Date.now();
        this.log.info('subscribed to Docker events', { engine: kind });
        const ended = this.consume(stream);
        // Not awaited: a long reconcile (etcd down) must not delay noticing a broken stream or a stop.
        this.handlers.onSubscribed().catch((err) => this.log.error('reconcile after subscribing failed', { err }));
        const reason = await ended;
        this.connected = false;
        if (this.stopped) break;
        this.log.warn('Docker event stream ended; reconnecting', { reason });
      } catch (err) {
        if (this.stopped) break;
        this.log.warn('cannot reach Docker; retrying', { err, attempt: failures + 1 });
      }
      // A stream that stayed up a while resets the backoff; one that keeps dying right away does not.
      failures = connectedAt && Date.now() - connectedAt > 5_000 ? 0 : failures + 1;
      await this.sleep(Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, failures - 1)));
    }
  }

  private async subscribe(kind: EngineKind): Promise<Readable> {
    return (await this.docker.getEvents({ filters: eventFilters(kind) })) as unknown as Readable;
  }

  /** Reads the stream until it ends; resolves with why it ended. */
  private consume(stream: Readable): Promise<string> {
    const splitter = new EventLineSplitter();
    const handleLines = (lines: string[]) => {
      for (const line of lines) {
        const parsed = parseEventLine(line);
        if (parsed.kind === 'event') this.handlers.onEvent(parsed.event);
        else if (parsed.kind === 'service') this.handlers.onServiceEvent?.(parsed.serviceId);
        else if (parsed.kind === 'malformed')
          this.log.warn('skipped malformed Docker event line', { reason: parsed.reason, line: line.slice(0, 200) });
      }
    };
    return new Promise((resolve) => {
      let done = false;
      const finish = (reason: string) => {
        if (done) return;
        done = true;
        handleLines(splitter.end());
        resolve(reason);
      };
      stream.on('data', (chunk: Buffer) => handleLines(splitter.push(chunk)));
      stream.on('end', () => finish('end'));
      stream.on('close', () => finish('closed'));
      stream.on('error', (err) => finish(`error: ${err.message}`));
    });
  }

  /**
   * On Podman, while subscribed: every `healthPollMs`, inspects each running container that has a
   * health check and hands on a `health_status` event for each whose status is not the one the
   * daemon last read (the daemon's sync then reads it again). Docker's own events suffice there.
   */
  private async pollHealthChecks(health: HealthChecks): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.healthPollMs);
        this.healthWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.stopped || this.kind !== 'podman' || !this.connected) continue;
      for (const [id, last] of health.entries()) {
        if (this.stopped || !this.connected) break;
        let now: string | undefined;
        try {
          const info = await this.docker.getContainer(id).inspect();
          now = isRunning(info) ? healthStatus(info) : undefined;
        } catch (err) {
          // An engine that does not answer is the event stream's to notice; gone is a change.
          if (!isNotFound(err)) break;
        }
        if (now !== last) {
          this.log.debug('health check status changed', { id, from: last, to: now ?? 'none' });
          this.handlers.onEvent({ id, action: 'health_status' });
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
