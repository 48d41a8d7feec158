import type Docker from 'dockerode';
import { isActive } from './docker/container';
import { isNotFound } from './docker/client';
import type { ContainerEvent } from './docker/events';
import { SyncQueue } from './docker/sync-queue';
import { DockerWatcher } from './docker/watcher';
import type { Logger } from './log';
import type { ContainerState, Writer } from './writer';

export interface DaemonOptions {
  /** Seconds between full reconciliations; 0 = only on start, reconnect and SIGHUP. */
  resyncSeconds: number;
  /** Containers inspected and written at once. */
  concurrency?: number;
  /** First delay before re-reconciling after a failed write (doubles, capped at 30 s). */
  retryDelayMs?: number;
  /** Longest a stop may take, deletion included (default 8 s, under `docker stop`'s 10 s). */
  shutdownDeadlineMs?: number;
}

/** Rejects when `deadline` (epoch ms) passes first; the work itself is left to finish or fail. */
function withDeadline<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer before the shutdown deadline`)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wires one Docker watcher to every writer. Every action is "sync this container": inspect it
 * (the event is a hint, the inspect is the truth) and let each writer write the difference.
 */
export class Daemon {
  private readonly queue: SyncQueue;
  private readonly watcher: DockerWatcher;
  private resyncTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs: number;
  private failedSince?: number;
  private stopped = false;
  private reconcileRunning?: Promise<void>;
  private reconcileQueued?: Promise<void>;
  private firstSync?: { resolve: () => void; promise: Promise<void> };

  constructor(
    private readonly docker: Docker,
    private readonly writers: Writer[],
    private readonly log: Logger,
    private readonly options: DaemonOptions,
  ) {
    this.queue = new SyncQueue((id) => this.syncContainer(id), options.concurrency ?? 16);
    this.watcher = new DockerWatcher(docker, { onEvent: (e) => this.onEvent(e), onSubscribed: () => this.reconcile('subscribed') }, log.child({ component: 'docker.watcher' }));
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSync = { resolve, promise };
  }

  /** Starts watching; resolves after the first full reconciliation finished (successfully or not). */
  async start(): Promise<void> {
    this.watcher.start();
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => void this.reconcile('resync').catch(() => undefined), this.options.resyncSeconds * 1000);
    }
    await this.firstSync?.promise;
  }

  /**
   * Brings every writer in step with the running containers: reload what this host holds, then
   * sync every container that is running or held. Only this host's data is ever touched.
   * Reconciliations never overlap: a request during one runs once more after it (requests merge).
   */
  reconcile(reason: string): Promise<void> {
    if (this.reconcileQueued) return this.reconcileQueued;
    if (!this.reconcileRunning) {
      this.reconcileRunning = this.runReconcile(reason).finally(() => (this.reconcileRunning = undefined));
      return this.reconcileRunning;
    }
    this.reconcileQueued = this.reconcileRunning
      .catch(() => undefined)
      .then(() => {
        this.reconcileQueued = undefined;
        return this.reconcile(reason);
      });
    return this.reconcileQueued;
  }

  private async runReconcile(reason: string): Promise<void> {
    const started = Date.now();
    try {
      // No sync may run while held state is reloaded, or its write could be missing from it.
      await this.queue.pause();
      try {
        await Promise.all(this.writers.map((w) => w.loadHeld()));
      } finally {
        this.queue.resume();
      }
      const running = await this.docker.listContainers();
      const ids = new Set(running.map((c) => c.Id));
      for (const writer of this.writers) for (const id of writer.heldIds()) ids.add(id);
      const results = await Promise.allSettled([...ids].map((id) => this.queue.request(id)));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0) throw new Error(`${failed} of ${ids.size} containers could not be written`);
      this.log.info('reconciled', { reason, containers: ids.size, ms: Date.now() - started });
      this.recovered();
    } catch (err) {
      this.log.error('reconcile failed; will retry', { reason, err });
      this.scheduleRetry();
      throw err;
    } finally {
      this.firstSync?.resolve();
      this.firstSync = undefined;
    }
  }

  /** SIGUSR2: delete every host's data under every writer's prefixes, then write ours again. */
  async purgeAndRefill(): Promise<void> {
    await this.queue.pause();
    try {
      await Promise.all(this.writers.map((w) => w.purgeAll()));
    } finally {
      this.queue.resume();
    }
    await this.reconcile('SIGUSR2');
  }

  /**
   * Stops watching and waits for in-flight writes. With `deleteHostData`, removes all this host
   * wrote, giving up after `shutdownDeadlineMs` so the exit status and the report of what is left
   * come before `docker stop` (10 s by default) resorts to SIGKILL.
   */
  async stop(deleteHostData: boolean): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    const deadline = Date.now() + (this.options.shutdownDeadlineMs ?? 8_000);
    await this.watcher.stop();
    try {
      await withDeadline(this.queue.pause(), deadline, 'in-flight writes');
    } catch (err) {
      // Keeping data needs nothing more; a write that cannot finish is simply abandoned.
      if (deleteHostData) throw err;
      this.log.warn('stopping with writes still in flight', { err });
    }
    if (!deleteHostData) return;
    const results = await Promise.allSettled(this.writers.map((w) => withDeadline(w.removeHostData(), deadline, w.name)));
    const failures = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${this.writers[i].name}: ${(r.reason as Error).message}; left in place: ${this.writers[i].describeHostData()}`] : [],
    );
    if (failures.length > 0) throw new Error(`could not delete all of this host's data (${failures.join('; ')})`);
  }

  private onEvent(event: ContainerEvent): void {
    if (this.stopped) return;
    this.log.debug('event', { action: event.action, id: event.id });
    this.queue.request(event.id).catch(() => this.scheduleRetry());
  }

  private async syncContainer(id: string): Promise<void> {
    const state = await this.inspect(id);
    const results = await Promise.allSettled(this.writers.map((w) => w.sync(state)));
    const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [{ writer: this.writers[i].name, err: r.reason as Error }] : []));
    for (const e of errors) this.log.warn('write failed', { id, writer: e.writer, err: e.err });
    if (errors.length > 0) throw errors[0].err;
  }

  private async inspect(id: string): Promise<ContainerState> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return { id, info, active: isActive(info) };
    } catch (err) {
      if (isNotFound(err)) return { id, info: null, active: false };
      throw err;
    }
  }

  /** A failed write leaves a difference behind: reconcile again later, backing off while it keeps failing. */
  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.failedSince ??= Date.now();
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(30_000, this.retryDelayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconcile('retry').catch(() => undefined);
    }, delay);
  }

  private recovered(): void {
    if (this.failedSince !== undefined) this.log.info('writers back in step', { afterMs: Date.now() - this.failedSince });
    this.failedSince = undefined;
    this.retryDelayMs = this.options.retryDelayMs ?? 1_000;
  }
}
