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

/** True when Docker answered 404 (the container is gone). */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === 404;
}
