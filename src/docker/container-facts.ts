/**
 * A container as the engine describes it (Docker's inspect, or Podman's in Docker's words), and the
 * facts read from it. Pure: no I/O.
 */
import type { ContainerInspectInfo, Service as DockerService } from 'dockerode';

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

/** Why writers do not hold the container (isActive's reason, for explain and the status page); undefined while active. */
export function inactiveReason(c: ContainerInfo): string | undefined {
  if (!isRunning(c)) return 'the container is not running';
  const health = healthStatus(c);
  return health === undefined || health === 'healthy' ? undefined : `the container's health is ${health}`;
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

/** What the daemon learned about one container from a fresh inspect. */
export interface ContainerState {
  id: string;
  /** The inspect result; null when Docker answered 404 (the container is gone). */
  info: ContainerInfo | null;
  /** Whether writers should hold it (running, and healthy when it has a HEALTHCHECK). */
  active: boolean;
}
