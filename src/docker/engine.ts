/**
 * The container engine's I/O, as the daemon sees it: the containers running, a fresh inspect of one, and
 * the event stream that says which to look at again (watcher.ts). Only GETs and one long-lived event
 * stream; nothing is ever written to the engine.
 */
import type Docker from 'dockerode';
import type { Logger } from '../log';
import { type ContainerState, parseContainer } from './container';
import {
  type ContainerInfo,
  isNotFound,
  isRunning,
  networkContainerRef,
  SWARM_SERVICE_ID_LABEL,
  swarmServiceRef,
  type SwarmServiceInfo,
} from './container-facts';
import { type EngineIdentity, engineIdentity } from './engine-info';
import { HealthChecks } from './health-checks';
import { DockerWatcher, type EventWatch, type WatcherHandlers, type WatcherOptions } from './watcher';

/**
 * The container engine as the daemon uses it: which containers run, what one of them is now, and
 * what happens to them. Docker is the one engine in production; tests drive the daemon with their own.
 */
export interface ContainerEngine {
  /** Ids of the containers running now. */
  list(): Promise<string[]>;
  /** A fresh inspect of one container, parsed: what writers should hold for it (`container` null: it is gone). */
  inspect(id: string): Promise<ContainerState>;
  /** Hands container events and every (re)subscription to `handlers`, once started. */
  watch(handlers: WatcherHandlers): EventWatch;
  /** Ids of the running containers that are tasks of this Swarm service (a GET); absent: the engine has no Swarm. */
  serviceTasks?(serviceId: string): Promise<string[]>;
}

/** The engine as the operator commands read it: a ContainerEngine that also says which engine it is. */
export interface DockerEngine extends ContainerEngine {
  /** One `GET /info`; rejects when the engine does not answer. */
  identity(): Promise<EngineIdentity>;
}

/**
 * Docker (or Podman's Docker-compatible API) through dockerode: the list and inspects are GETs, the
 * events one long-lived stream (DockerWatcher). What each inspect finds of a container's health check
 * is noted for Podman's health poll (HealthChecks) when there is one (`healthPollMs` > 0).
 */
export function dockerEngine(docker: Docker, log: Logger, options: WatcherOptions = {}): DockerEngine {
  const health = (options.healthPollMs ?? 0) > 0 ? new HealthChecks() : undefined;
  return {
    list: async () => (await docker.listContainers()).map((c) => c.Id),
    inspect: async (id) => {
      const state = await inspectState(docker, id);
      return health ? health.saw(state) : state;
    },
    watch: (handlers) => new DockerWatcher(docker, handlers, log, { ...options, health }),
    identity: () => engineIdentity(docker),
    serviceTasks: async (serviceId) =>
      (await docker.listContainers({ filters: { label: [`${SWARM_SERVICE_ID_LABEL}=${serviceId}`] } })).map((c) => c.Id),
  };
}

/**
 * Inspects one container (a GET): what writers should hold for it; a 404 means it is gone. A running
 * container that shares another's network (`--net=container:<ref>`) has <ref> inspected too (a GET),
 * since its services are registered at that container's address.
 */
export async function inspectState(docker: Docker, id: string): Promise<ContainerState> {
  let info: ContainerInfo;
  try {
    info = await docker.getContainer(id).inspect();
  } catch (err) {
    if (isNotFound(err)) return { id, container: null };
    throw err;
  }
  const ref = networkContainerRef(info);
  if (ref !== undefined && isRunning(info)) info = { ...info, networkContainer: await inspectNetworkContainer(docker, ref) };
  const service = swarmServiceRef(info);
  if (service !== undefined && isRunning(info)) info = { ...info, swarmService: await inspectSwarmService(docker, service) };
  return { id, container: parseContainer(info) };
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
    return await docker.getContainer(ref).inspect();
  } catch (err) {
    // Any answer from Docker (404, or 400/500 for a reference it cannot use) concerns this container
    // only: it gets no services and a warning. No answer at all is Docker being away: retried.
    if (typeof (err as { statusCode?: unknown })?.statusCode === 'number') return null;
    throw err;
  }
}
