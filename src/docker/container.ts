/**
 * A container as the daemon knows it: one narrow, immutable value parsed once from an inspect (Docker's,
 * or Podman's in Docker's words), where the engines' differences are resolved. Pure: no I/O.
 */
import { type ContainerInfo, healthStatus, isRunning, swarmServiceRef, type SwarmServiceInfo } from './container-facts';

/** How the container reaches the network (`HostConfig.NetworkMode`). */
type NetworkMode =
  | { readonly kind: 'host' }
  | { readonly kind: 'container'; readonly reference: string }
  /** `bridge`, `default`, `none`, a user network's name, or `''` when the inspect has none: as written. */
  | { readonly kind: 'network'; readonly name: string };

/** One network the container is attached to, as the engine reports it (`''`: no such address). */
interface ContainerNetwork {
  readonly name: string;
  readonly id: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly aliases: readonly string[];
}

/** One binding of a port on the host, as written (`hostIp` `0.0.0.0` for every address, Podman's `''` included). */
export interface PortBinding {
  readonly hostIp: string | undefined;
  readonly hostPort: string | undefined;
}

/**
 * One port key of the inspect (`80/tcp`, `53/udp`, a bare `80`, or anything the API stored), as written:
 * whether it is exposed (`Config.ExposedPorts`), whether `NetworkSettings.Ports` lists it, and its bindings
 * there (`null`: listed but not published). Keys in the order the inspect gives them, published ones first.
 */
interface ContainerPort {
  readonly spec: string;
  readonly exposed: boolean;
  readonly listed: boolean;
  readonly bindings: readonly (PortBinding | null)[] | null;
}

/** A port of a Swarm service's endpoint (`Endpoint.Ports`). */
interface SwarmServicePort {
  readonly targetPort: number | undefined;
  readonly protocol: string | undefined;
  readonly publishedPort: number | undefined;
  readonly publishMode: string | undefined;
}

/** A Swarm task's service as `GET /services/<id>` gave it. */
export interface SwarmService {
  readonly id: string;
  readonly name: string | undefined;
  readonly ports: readonly SwarmServicePort[];
}

/** Docker's labels on a Swarm task's container, and its service's inspect (null: unreadable; undefined: not looked up). */
interface SwarmFacts {
  readonly serviceId: string;
  /** `com.docker.swarm.service.name`, if set. */
  readonly serviceName: string | undefined;
  /** `com.docker.swarm.task.id`, if set. */
  readonly taskId: string | undefined;
  readonly service: SwarmService | null | undefined;
}

/** Compose's labels (`com.docker.compose.*`), when the container has them. */
interface ComposeFacts {
  readonly project: string | undefined;
  readonly service: string | undefined;
}

/** The container's state: running (not restarting), its exit code and health. */
interface ContainerStatus {
  /** `State.Status` as written (`running`, `exited`, ...); undefined when the inspect has none. */
  readonly status: string | undefined;
  readonly running: boolean;
  readonly paused: boolean;
  readonly restarting: boolean;
  readonly exitCode: number;
  /** `starting`, `healthy`, `unhealthy`; undefined without a health check (Docker's `none`, Podman's `""`). */
  readonly health: string | undefined;
  /** Running and, with a health check, healthy: what writers hold (docs/mirror.md, "The Docker watcher"). */
  readonly active: boolean;
}

export interface Container {
  /** The full ID. */
  readonly id: string;
  /** The name without Docker's leading `/`; `''` when the inspect has none. */
  readonly name: string;
  /** `Created` as written; `''` when absent. */
  readonly created: string;
  /** `configured`: the image as the container was created with it (`Config.Image`); `id`: what it resolved to (`Image`). */
  readonly image: { readonly configured: string; readonly id: string };
  /** `Config.Labels`, values as strings. */
  readonly labels: Readonly<Record<string, string>>;
  /** `Config.Env`, `KEY=value` entries as written. */
  readonly env: readonly string[];
  /** `Config.Hostname`; `''` when absent. */
  readonly hostname: string;
  readonly state: ContainerStatus;
  readonly networkMode: NetworkMode;
  /** The default bridge's addresses, the inspect's top-level fields (`''`: none). */
  readonly bridge: { readonly ipv4: string; readonly ipv6: string };
  /** Its networks, sorted by name. */
  readonly networks: readonly ContainerNetwork[];
  readonly ports: readonly ContainerPort[];
  readonly compose: ComposeFacts | undefined;
  readonly swarm: SwarmFacts | undefined;
  /** For `--net=container:<ref>`: that container (null: gone; undefined: not looked up). */
  readonly networkContainer: Container | null | undefined;
}

const SWARM_SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';
const SWARM_TASK_ID_LABEL = 'com.docker.swarm.task.id';
const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/** What the daemon learned about one container from a fresh inspect. */
export interface ContainerState {
  readonly id: string;
  /** The container; null when the engine answered 404 (it is gone). */
  readonly container: Container | null;
}

/** Whether writers hold the container of `state` (running, and healthy when it has a health check). */
export function isHeld(state: ContainerState): boolean {
  return state.container?.state.active === true;
}

/** Why writers do not hold the container (`state.active` false), for explain and the status page; undefined while active. */
export function inactiveReason(c: Container): string | undefined {
  if (c.state.active) return undefined;
  return c.state.running ? `the container's health is ${c.state.health}` : 'the container is not running';
}

/** The address families a network reports. */
export type AddressFamily = 'ipv4' | 'ipv6';

/**
 * Where to look for an address once the default bridge has none: the first network by name that has
 * one (`by-name`), or first the network the container was started on (its network mode).
 */
export type NetworkFallback = 'by-name' | 'own-network-then-by-name';

/**
 * One address of the container: its default-bridge one, else per `fallback`; `''` when no network has
 * one. A network without that address (IPv6-only, or still being attached) does not hide the next one.
 *
 * The two fallbacks are two documented rules, which differ for a container on several networks.
 * The mirror's `network/ip` is `by-name` (docs/mirror.md, "IP"): `docker network connect` to a network
 * that sorts first changes it. The service model's addresses are `own-network-then-by-name`: they stay
 * on the network the container was started on, whatever it is connected to later.
 */
export function networkAddress(c: Container, family: AddressFamily, fallback: NetworkFallback): string {
  if (c.bridge[family]) return c.bridge[family];
  if (fallback === 'own-network-then-by-name') {
    const mode = c.networkMode;
    const own = mode.kind === 'network' ? mode.name : mode.kind === 'host' ? 'host' : undefined;
    const address = c.networks.find((n) => n.name === own)?.[family];
    if (address) return address;
  }
  return c.networks.find((n) => n[family] !== '')?.[family] ?? '';
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const optionalText = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const optionalNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function parseNetworkMode(mode: string): NetworkMode {
  if (mode === 'host') return Object.freeze({ kind: 'host' });
  if (mode.startsWith('container:')) return Object.freeze({ kind: 'container', reference: mode.slice('container:'.length) });
  return Object.freeze({ kind: 'network', name: mode });
}

/** A binding field as the engine's JSON gave it (a number is read as its digits, as etcd would store it). */
const bindingField = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/**
 * null: an element that is no binding at all. A port published on every address has `HostIp` `0.0.0.0`
 * from Docker and `""` from Podman (docs/podman.md): both read as `0.0.0.0`.
 */
function parseBinding(b: unknown): PortBinding | null {
  if (!b || typeof b !== 'object') return null;
  const o = b as Record<string, unknown>;
  const hostIp = bindingField(o.HostIp);
  const hostPort = bindingField(o.HostPort);
  return Object.freeze({ hostIp: hostIp === '' && hostPort ? '0.0.0.0' : hostIp, hostPort });
}

function parsePorts(c: ContainerInfo): ContainerPort[] {
  const listed = record(c.NetworkSettings?.Ports);
  const exposed = record(c.Config?.ExposedPorts);
  const specs = new Set([...Object.keys(listed), ...Object.keys(exposed)]);
  return [...specs].map((spec) => {
    const bindings = listed[spec];
    return Object.freeze({
      spec,
      exposed: Object.hasOwn(exposed, spec),
      listed: Object.hasOwn(listed, spec),
      bindings: Array.isArray(bindings) ? Object.freeze(bindings.map(parseBinding)) : null,
    });
  });
}

function parseNetworks(c: ContainerInfo): ContainerNetwork[] {
  const networks = record(c.NetworkSettings?.Networks);
  return Object.keys(networks)
    .sort()
    .map((name) => {
      const n = record(networks[name]);
      const aliases = Array.isArray(n.Aliases) ? n.Aliases.filter((a): a is string => typeof a === 'string') : [];
      return Object.freeze({
        name,
        id: text(n.NetworkID),
        ipv4: text(n.IPAddress),
        ipv6: text(n.GlobalIPv6Address),
        aliases: Object.freeze(aliases),
      });
    });
}

function parseSwarmService(s: SwarmServiceInfo): SwarmService {
  const ports = Array.isArray(s.Endpoint?.Ports) ? s.Endpoint.Ports : [];
  return Object.freeze({
    id: text(s.ID),
    name: optionalText(s.Spec?.Name),
    ports: Object.freeze(
      ports.map((p) => {
        const o = record(p);
        return Object.freeze({
          targetPort: optionalNumber(o.TargetPort),
          protocol: optionalText(o.Protocol),
          publishedPort: optionalNumber(o.PublishedPort),
          publishMode: optionalText(o.PublishMode),
        });
      }),
    ),
  });
}

function parseSwarm(c: ContainerInfo, labels: Readonly<Record<string, string>>): SwarmFacts | undefined {
  const serviceId = swarmServiceRef(c);
  if (serviceId === undefined) return undefined;
  const service = c.swarmService === undefined ? undefined : c.swarmService === null ? null : parseSwarmService(c.swarmService);
  return Object.freeze({
    serviceId,
    serviceName: labels[SWARM_SERVICE_NAME_LABEL] || undefined,
    taskId: labels[SWARM_TASK_ID_LABEL] || undefined,
    service,
  });
}

function parseCompose(labels: Readonly<Record<string, string>>): ComposeFacts | undefined {
  const project = labels[COMPOSE_PROJECT_LABEL];
  const service = labels[COMPOSE_SERVICE_LABEL];
  return project === undefined && service === undefined ? undefined : Object.freeze({ project, service });
}

/**
 * The container an inspect describes, whichever engine answered (docs/podman.md). The inspects the daemon
 * attached (`networkContainer`, `swarmService`; see inspectState) are parsed with it. Never throws on an
 * unforeseen shape: what is missing or mistyped reads as absent.
 */
export function parseContainer(c: ContainerInfo): Container {
  const state = record(c.State);
  const labels = Object.freeze(
    Object.fromEntries(Object.entries(record(c.Config?.Labels)).map(([k, v]) => [k, String(v ?? '')])),
  ) as Readonly<Record<string, string>>;
  const settings = record(c.NetworkSettings);
  const env = Array.isArray(c.Config?.Env) ? c.Config.Env.filter((e): e is string => typeof e === 'string') : [];
  const other = c.networkContainer;
  const running = isRunning(c);
  const health = healthStatus(c);
  return Object.freeze({
    id: text(c.Id),
    name: text(c.Name).replace(/^\//, ''),
    created: text(c.Created),
    image: Object.freeze({ configured: text(c.Config?.Image), id: text(c.Image) }),
    labels,
    env: Object.freeze(env),
    hostname: text(c.Config?.Hostname),
    state: Object.freeze({
      status: optionalText(state.Status),
      running,
      paused: Boolean(state.Paused),
      restarting: Boolean(state.Restarting),
      exitCode: optionalNumber(state.ExitCode) ?? 0,
      health,
      active: running && (health === undefined || health === 'healthy'),
    }),
    networkMode: parseNetworkMode(String(c.HostConfig?.NetworkMode ?? '')),
    bridge: Object.freeze({ ipv4: text(settings.IPAddress), ipv6: text(settings.GlobalIPv6Address) }),
    networks: Object.freeze(parseNetworks(c)),
    ports: Object.freeze(parsePorts(c)),
    compose: parseCompose(labels),
    swarm: parseSwarm(c, labels),
    networkContainer: other === undefined ? undefined : other === null ? null : parseContainer(other),
  });
}
