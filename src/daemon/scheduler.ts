import type { IBackoff } from 'cockatiel';
import { exponentialBackoff } from '../retry-backoff';
import type { Logger } from '../log';

/** The longest wait before retrying a failed reconciliation. */
const MAX_RETRY_DELAY_MS = 30_000;

export interface SchedulerOptions {
  /** Seconds between reconciliations; 0 = none on a timer. */
  resyncSeconds: number;
  /** First delay before reconciling again after a failure (doubles, capped at 30 s; default 1 s). */
  retryDelayMs?: number;
  /** How long after a report of deleted data to reconcile (heal); undefined: reports are ignored. */
  healDelayMs?: Delay;
  /** How long after etcd's history changed to reconcile (repair); default the heal delay, else at once. */
  repairDelayMs?: Delay;
}

/** A delay in milliseconds, or how to work it out when it is needed (the fleet's size is read then). */
export type Delay = number | (() => Promise<number>);

async function delayOf(delay: Delay): Promise<number> {
  return typeof delay === 'number' ? delay : delay();
}

/**
 * When reconciliations run: on request, never two at once (a request during one runs once more
 * after it, requests merging); every `resyncSeconds`; again after a failure, backing off while
 * failures go on; and once after a self-healing delay. Knows when the first one has finished.
 */
export class ReconcileScheduler {
  private resyncTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private healTimer?: NodeJS.Timeout;
  /** Decorrelated jitter: a fleet whose etcd failed them all does not retry in step. */
  private backoff: IBackoff<unknown>;
  private healPending = false;
  private failedSince?: number;
  private stopped = false;
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private firstRun?: { resolve: () => void; promise: Promise<void> };

  /** `run` reconciles once; it rejects when the reconciliation failed (and is to be retried unless stopped). */
  constructor(
    private readonly run: (reason: string) => Promise<void>,
    private readonly log: Logger,
    private readonly options: SchedulerOptions,
  ) {
    this.backoff = this.firstBackoff();
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstRun = { resolve, promise };
  }

  /** Starts the resync timer. */
  start(): void {
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => void this.request('resync').catch(() => undefined), this.options.resyncSeconds * 1000);
    }
  }

  /** Resolves once the first reconciliation has finished, successfully or not. */
  firstRunFinished(): Promise<void> {
    return this.firstRun?.promise ?? Promise.resolve();
  }

  get firstRunDone(): boolean {
    return this.firstRun === undefined;
  }

  /** Settles with the reconciliation that serves this request: the one starting now, or the one queued after the running one. */
  request(reason: string): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) {
      this.running = this.runOnce(reason).finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.request(reason);
      });
    return this.queued;
  }

  /**
   * Self-healing: a writer saw keys it holds deleted by someone else (another host's SIGUSR2, a
   * hand). Reconciles after this host's delay; reports that arrive meanwhile join that one run.
   */
  heal(reason: string): void {
    const delay = this.options.healDelayMs;
    if (delay === undefined) return;
    // later() never rejects (a delay that fails falls back to a fixed one).
    void this.later(delay, 'self-heal', "this host's data was deleted from etcd; writing it back", reason);
  }

  /** etcd's history changed: reconciles after the same spread delay as self-healing (a rebuilt etcd empties the fleet's data at once). */
  repair(reason: string): Promise<void> {
    return this.later(
      this.options.repairDelayMs ?? this.options.healDelayMs ?? 0,
      'etcd history changed',
      'bringing every writer back in step',
      reason,
    );
  }

  /** One reconciliation after `delay`; reports that arrive meanwhile join it. Resolves when it is scheduled. */
  private async later(delay: Delay, runReason: string, message: string, reason: string): Promise<void> {
    if (this.stopped || this.healPending) return;
    this.healPending = true;
    let ms: number;
    try {
      ms = await delayOf(delay);
    } catch {
      ms = typeof delay === 'number' ? delay : 1_000;
    }
    if (this.stopped) return;
    this.log.info(message, { reason, inMs: ms });
    this.healTimer = setTimeout(() => {
      this.healTimer = undefined;
      this.healPending = false;
      void this.request(runReason).catch(() => undefined);
    }, ms);
  }

  /** A failed write leaves a difference behind: reconcile again later, backing off while it keeps failing. */
  retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.failedSince ??= Date.now();
    const delay = Math.round(this.backoff.duration);
    this.backoff = this.backoff.next(undefined);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.request('retry').catch(() => undefined);
    }, delay);
  }

  /** Schedules nothing more; a reconciliation under way is the caller's to abandon. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.healTimer);
  }

  private async runOnce(reason: string): Promise<void> {
    try {
      await this.run(reason);
      this.recovered();
    } catch (err) {
      this.retryLater();
      throw err;
    } finally {
      this.firstRun?.resolve();
      this.firstRun = undefined;
    }
  }

  private recovered(): void {
    if (this.failedSince !== undefined) this.log.info('writers back in step', { afterMs: Date.now() - this.failedSince });
    this.failedSince = undefined;
    this.backoff = this.firstBackoff();
  }

  private firstBackoff(): IBackoff<unknown> {
    return exponentialBackoff(this.options.retryDelayMs ?? 1_000, MAX_RETRY_DELAY_MS);
  }
}
