import type Docker from 'dockerode';
import type { Logger } from '../log';
import type { ContainerState } from './container-state';
import { inspectState } from './container-state';
import { DockerWatcher, WatcherHandlers } from './watcher';

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
}

/** Docker through dockerode: the list and inspects are GETs, the events one long-lived stream (DockerWatcher). */
export function dockerEngine(docker: Docker, log: Logger): ContainerEngine {
  return {
    list: async () => (await docker.listContainers()).map((c) => c.Id),
    inspect: (id) => inspectState(docker, id),
    watch: (handlers) => new DockerWatcher(docker, handlers, log),
  };
}
