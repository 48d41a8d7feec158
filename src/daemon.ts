import type Docker from 'dockerode';
import { inspectState } from './docker/container-state';
import { isRunning } from './docker/container';
import { ContainerEvent, isNetworkAction } from './docker/events';
import { SyncQueue } from './docker/sync-queue';
import { DockerWatcher } from './docker/watcher';
import type { Logger } from './log';
import type { DaemonObserver, DaemonStatus } from './observer';
import type { ContainerState, Writer } from './writer';

export interface DaemonOptions {
  /** Seconds between full reconciliations; 0 = only on start, reconnect and SIGHUP. */
  resyncSeconds: number;
  /** Containers inspected and written at once. */
  concurrency?: number;
  /** First delay before re-reconciling after a failed write (doubles, capped at 30 s). */
  retryDelayMs?: number;
  /** Longest a stop that deletes this host's data may take, deletion included (default 8 s, under `docker stop`'s 10 s). */
  shutdownDeadlineMs?: number;
  /** Longest a stop that keeps the data waits for writes in flight before abandoning them (default 1 s; SIGINT exits within 2 s). */
  stopGraceMs?: number;
  /**
   * Self-healing: how long after a writer reports this host's data deleted behind its back the
   * daemon reconciles to write it back (see selfHealDelayMs); undefined turns self-healing off.
   */
  healDelayMs?: number;
  /**
   * `-retry-attempts` / `-retry-interval`: how often a writer that does not answer its first ping
   * is pinged again before the daemon gives up (`attempts` -1: never gives up).
   */
  startupRetry?: { attempts: number; intervalMs: number };
  /** Called when the daemon cannot go on (a writer still unreachable after its retries). */
  onFatal?: (err: Error) => void;
  /** Told about events, writes and reconciliations (metrics); optional. */
  observer?: DaemonObserver;
}

/** What writers made by the daemon (a function of these, see the constructor) may ask of it. */
export interface DaemonRequests {
  reconcile(reason: string): void;
  heal(reason: string): void;
}

/** A reconciliation of more containers than this logs `synced N/M` every this many containers. */
const PROGRESS_EVERY = 200;

/** A writer that never answered within its startup retries. */
export class WriterUnreachableError extends Error {
  constructor(writer: string, attempts: number, cause: unknown) {
    super(`${writer} still unreachable after ${attempts + 1} attempts (-retry-attempts ${attempts}): ${(cause as Error)?.message ?? cause}`);
    this.name = 'WriterUnreachableError';
  }
}

/** The window self-healing delays are spread over, and its start (so this host's own deletions have landed). */
const HEAL_WINDOW_MS = 1_000;
const HEAL_MIN_MS = 100;

/**
 * This host's self-healing delay: 0.1 to 1.1 s, fixed by a hash of the host name (FNV-1a), so that
 * when another host's SIGUSR2 purges the fleet's data the fleet's hosts spread their refills evenly
 * over that second instead of all writing at once; and a host's delay is the same every time.
 */
export function selfHealDelayMs(host: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(host)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return HEAL_MIN_MS + (hash % HEAL_WINDOW_MS);
}

/** Why a reconciliation or a sync did not finish: the daemon is stopping (not a failure to retry). */
export class StoppingError extends Error {
  constructor() {
    super('the daemon is stopping');
    this.name = 'StoppingError';
  }
}

/** How many items an iterable yields (heldIds() gives an iterator, not an array). */
function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
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
  private healTimer?: NodeJS.Timeout;
  private retryDelayMs: number;
  private failedSince?: number;
  private stopped = false;
  private reconcileRunning?: Promise<void>;
  private reconcileQueued?: Promise<void>;
  private firstSync?: { resolve: () => void; promise: Promise<void> };
  /** Writers not yet admitted: their first ping has not answered. */
  private readonly pending = new Set<Writer>();
  /** Writers that loaded their held state and have not failed since; only these get syncs. */
  private readonly inStep = new Set<Writer>();
  private readonly sleeps = new Set<NodeJS.Timeout>();
  /** Containers whose last sync found them running: the ones a network event is a hint for (onEvent). */
  private readonly running = new Set<string>();
  private readonly observer: DaemonObserver;
  /** Settles once every writer answered its first ping or was set pending. */
  private pinged: Promise<void> = Promise.resolve();
  private readonly writers: Writer[];

  constructor(
    private readonly docker: Docker,
    writers: Writer[] | ((requests: DaemonRequests) => Writer[]),
    private readonly log: Logger,
    private readonly options: DaemonOptions,
  ) {
    const list = typeof writers === 'function' ? writers({ reconcile: (r) => void this.reconcile(r).catch(() => undefined), heal: (r) => this.heal(r) }) : writers;
    this.writers = list;
    this.queue = new SyncQueue((id) => this.syncContainer(id), options.concurrency ?? 16);
    this.watcher = new DockerWatcher(docker, { onEvent: (e) => this.onEvent(e), onSubscribed: () => this.reconcile('subscribed') }, log.child({ component: 'docker.watcher' }));
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.observer = options.observer ?? {};
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSync = { resolve, promise };
  }

  /**
   * Pings every writer once, starts watching, and resolves after the first full reconciliation
   * finished (successfully or not). A writer that did not answer keeps being pinged in the
   * background and joins with a reconciliation of its own once it answers.
   */
  async start(): Promise<void> {
    // The event stream opens while the writers are pinged (two round trips in parallel, not in
    // a row); reconciliations wait for the pings, so they know which writers are admitted.
    this.pinged = this.pingWriters();
    this.watcher.start();
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => void this.reconcile('resync').catch(() => undefined), this.options.resyncSeconds * 1000);
    }
    await this.firstSync?.promise;
  }

  /** Pings every writer once; one that does not answer stays pending and is pinged again in the background. */
  private async pingWriters(): Promise<void> {
    const unanswered: Array<{ writer: Writer; err: unknown }> = [];
    await Promise.all(
      this.writers.map(async (writer) => {
        if (!writer.ping) return;
        try {
          await writer.ping();
        } catch (err) {
          this.pending.add(writer);
          unanswered.push({ writer, err });
        }
      }),
    );
    for (const { writer, err } of unanswered) void this.admitWhenReachable(writer, err);
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
      await this.pinged;
      this.throwIfStopping();
      const admitted = this.writers.filter((w) => !this.pending.has(w));
      const unloaded: string[] = [];
      // The list does not depend on held state: Docker answers while the stores are read.
      const listing = this.docker.listContainers();
      listing.catch(() => undefined); // a failure is thrown where it is awaited, below
      // No sync may run while held state is reloaded, or its write could be missing from it.
      await this.queue.pause();
      try {
        // A writer whose store is down sits this one out; the others are reconciled regardless.
        const loads = await Promise.allSettled(admitted.map((w) => w.loadHeld()));
        loads.forEach((result, i) => {
          if (result.status === 'fulfilled') {
            this.inStep.add(admitted[i]);
          } else {
            this.inStep.delete(admitted[i]);
            unloaded.push(admitted[i].name);
            this.log.warn('could not read what this host holds; writer skipped until the next attempt', { writer: admitted[i].name, err: result.reason });
          }
        });
      } finally {
        this.queue.resume();
      }
      this.throwIfStopping();
      const running = await listing;
      this.throwIfStopping();
      const ids = new Set(running.map((c) => c.Id));
      for (const writer of this.inStep) for (const id of writer.heldIds()) ids.add(id);
      // So that one whose die went unseen (events lost) leaves the running set.
      for (const id of this.running) ids.add(id);
      const results = await Promise.allSettled(this.withProgress(reason, [...ids].map((id) => this.queue.request(id))));
      const failed = results.filter((r) => r.status === 'rejected').length;
      this.throwIfStopping();
      for (const writer of [...this.inStep]) {
        if (!writer.afterReconcile) continue;
        try {
          await writer.afterReconcile();
        } catch (err) {
          this.inStep.delete(writer);
          unloaded.push(writer.name);
          this.log.warn('clean-up after reconciling failed', { writer: writer.name, err });
        }
      }
      if (failed > 0) throw new Error(`${failed} of ${ids.size} containers could not be written`);
      if (unloaded.length > 0) throw new Error(`not reconciled: ${unloaded.join(', ')}`);
      this.log.info('reconciled', { reason, containers: ids.size, ms: Date.now() - started });
      this.observer.reconciled?.(true, (Date.now() - started) / 1000);
      this.recovered();
    } catch (err) {
      if (this.stopped) {
        // A stop signal abandons the reconciliation where it stands; nothing is retried.
        this.log.info('reconciliation abandoned: stopping', { reason });
        throw err;
      }
      this.observer.reconciled?.(false, (Date.now() - started) / 1000);
      this.log.error('reconcile failed; will retry', { reason, err });
      this.scheduleRetry();
      throw err;
    } finally {
      this.firstSync?.resolve();
      this.firstSync = undefined;
    }
  }

  private throwIfStopping(): void {
    if (this.stopped) throw new StoppingError();
  }

  /**
   * Self-healing: a writer saw keys it holds deleted by someone else (another host's SIGUSR2, a
   * hand). Reconciles after this host's delay; reports that arrive meanwhile join that one run.
   */
  heal(reason: string): void {
    const delay = this.options.healDelayMs;
    if (this.stopped || delay === undefined || this.healTimer) return;
    this.log.info('this host\'s data was deleted from etcd; writing it back', { reason, inMs: delay });
    this.healTimer = setTimeout(() => {
      this.healTimer = undefined;
      void this.reconcile('self-heal').catch(() => undefined);
    }, delay);
  }

  /** Logs `synced N/M` every PROGRESS_EVERY settled syncs, when there are more than that many. */
  private withProgress(reason: string, syncs: Array<Promise<void>>): Array<Promise<void>> {
    const total = syncs.length;
    if (total <= PROGRESS_EVERY) return syncs;
    let done = 0;
    const step = () => {
      done++;
      if (done % PROGRESS_EVERY === 0) this.log.info(`synced ${done}/${total}`, { reason, done, total });
    };
    return syncs.map((sync) => sync.finally(step));
  }

  /** What /healthz and the state gauges report: Docker subscribed, first reconciliation done, each writer's state. */
  status(): DaemonStatus {
    return {
      dockerConnected: this.watcher.subscribed,
      firstReconcileDone: this.firstSync === undefined,
      writers: this.writers.map((w) => ({
        name: w.name,
        state: this.pending.has(w) ? 'unreachable' : this.inStep.has(w) ? 'in-step' : 'out-of-step',
        containersHeld: count(w.heldIds()),
      })),
    };
  }

  /** SIGUSR2: delete every host's data under every writer's prefixes, then write ours again. */
  async purgeAndRefill(): Promise<void> {
    await this.queue.pause();
    let purges: PromiseSettledResult<void>[];
    try {
      purges = await Promise.allSettled(this.writers.map((w) => w.purgeAll()));
    } finally {
      this.queue.resume();
    }
    // The refill runs even if one store could not be purged: the others must not stay empty.
    await this.reconcile('SIGUSR2');
    const failed = purges.flatMap((r, i) => (r.status === 'rejected' ? [`${this.writers[i].name}: ${(r.reason as Error).message}`] : []));
    if (failed.length > 0) throw new Error(`purge incomplete (${failed.join('; ')})`);
  }

  /**
   * Stops watching and abandons any reconciliation under way: syncs not yet started never start,
   * the ones running are waited for. Keeping the data, that wait is short (`stopGraceMs`): a write
   * that cannot finish is abandoned. With `deleteHostData`, removes all this host wrote, giving up
   * after `shutdownDeadlineMs` so the exit status and the report of what is left come before
   * `docker stop` (10 s by default) resorts to SIGKILL.
   */
  async stop(deleteHostData: boolean): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.healTimer);
    for (const timer of this.sleeps) clearTimeout(timer);
    const deadline = Date.now() + (deleteHostData ? this.options.shutdownDeadlineMs ?? 8_000 : this.options.stopGraceMs ?? 1_000);
    try {
      await withDeadline(Promise.all([this.watcher.stop(), this.queue.close(new StoppingError())]), deadline, 'in-flight writes');
    } catch (err) {
      // Keeping data needs nothing more; a write that cannot finish is simply abandoned.
      if (deleteHostData) throw err;
      this.log.warn('stopping with writes still in flight', { err });
    }
    try {
      if (!deleteHostData) return;
      // Every writer is asked, admitted or not: a store that is back by now still gets cleaned.
      const results = await Promise.allSettled(this.writers.map((w) => withDeadline(w.removeHostData(), deadline, w.name)));
      const failures = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`${this.writers[i].name}: ${(r.reason as Error).message}; left in place: ${this.writers[i].describeHostData()}`] : [],
      );
      if (failures.length > 0) throw new Error(`could not delete all of this host's data (${failures.join('; ')})`);
    } finally {
      await Promise.all(this.writers.map((w) => w.close?.().catch(() => undefined)));
    }
  }

  private onEvent(event: ContainerEvent): void {
    if (this.stopped) return;
    // Docker connects a container's networks before its start event and disconnects them after its
    // die; those syncs are the start's and the die's. A network event matters for a running container.
    if (isNetworkAction(event.action) && !this.running.has(event.id)) return;
    this.log.debug('event', { action: event.action, id: event.id });
    this.observer.eventHandled?.(event.action);
    this.queue.request(event.id).catch(() => this.scheduleRetry());
  }

  private async syncContainer(id: string): Promise<void> {
    const state = await inspectState(this.docker, id);
    if (state.info && isRunning(state.info)) this.running.add(id);
    else this.running.delete(id);
    const writers = [...this.inStep];
    const results = await Promise.allSettled(writers.map((w) => w.sync(state)));
    results.forEach((r, i) => this.observer.written?.(writers[i].name, r.status === 'fulfilled'));
    const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [{ writer: writers[i], err: r.reason as Error }] : []));
    for (const e of errors) {
      // Out of step until a reconciliation reloads it: a down store is not hammered once per event.
      this.inStep.delete(e.writer);
      this.log.warn('write failed', { id, writer: e.writer.name, err: e.err });
    }
    if (errors.length > 0) throw errors[0].err;
  }

  /** Pings a writer that did not answer at start every `-retry-interval` until it does or the attempts run out. */
  private async admitWhenReachable(writer: Writer, firstError: unknown): Promise<void> {
    const { attempts, intervalMs } = this.options.startupRetry ?? { attempts: -1, intervalMs: 2_000 };
    let err = firstError;
    for (let attempt = 1; !this.stopped; attempt++) {
      if (attempts >= 0 && attempt > attempts) {
        this.options.onFatal?.(new WriterUnreachableError(writer.name, attempts, err));
        return;
      }
      this.log.warn('writer unreachable; retrying', { writer: writer.name, attempt, of: attempts < 0 ? 'unlimited' : attempts, inMs: intervalMs, err });
      await this.sleep(intervalMs);
      if (this.stopped) return;
      try {
        await writer.ping!();
      } catch (e) {
        err = e;
        continue;
      }
      this.pending.delete(writer);
      this.log.info('writer reachable', { writer: writer.name, attempt });
      void this.reconcile(`${writer.name} reachable`).catch(() => undefined);
      return;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeps.delete(timer);
        resolve();
      }, ms);
      this.sleeps.add(timer);
    });
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
