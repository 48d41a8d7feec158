import type { ContainerState } from './docker/container';

/**
 * A store kept in step with the containers on this host. The daemon calls `loadHeld` at the start
 * of every reconciliation, then `sync` for every container that is running or that the writer holds.
 */
export interface Writer {
  /** Component name for logs, e.g. `writer.mirror`. */
  readonly name: string;
  /** Reads what this host holds in the store, so following syncs write only differences. */
  loadHeld(): Promise<void>;
  /** Ids of containers this host holds data for, as of the last load and the syncs since. */
  heldIds(): Iterable<string>;
  /** Writes what is missing or stale for this container, or removes it when it is not active. */
  sync(state: ContainerState): Promise<void>;
  /** SIGTERM: deletes everything this host wrote, found in the store (stale entries included). */
  removeHostData(): Promise<void>;
  /** Where this host's data lives and how much of it (as last known), for reports of what was left. */
  describeHostData(): string;
  /** SIGUSR2: deletes every host's data under this writer's prefixes. */
  purgeAll(): Promise<void>;
  /**
   * Resolves when the store answers. A writer with `ping` is admitted only once it answers
   * (`-retry-attempts`, `-retry-interval`); the other writers start without waiting for it.
   */
  ping?(): Promise<void>;
  /** Called after a reconciliation has synced every container through this writer (`-cleanup`). */
  afterReconcile?(): Promise<void>;
  /** Stops what the writer runs on its own (its watches, its backend's connections), before the etcd client closes. */
  close?(): Promise<void>;
}
