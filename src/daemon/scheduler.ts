import type { Logger } from '../log';

/** The longest wait before retrying a failed reconciliation. */
const MAX_RETRY_DELAY_MS = 30_000;

export interface SchedulerOptions {
  /** Seconds between reconciliations; 0 = none on a timer. */
  resyncSeconds: number;
  /** First delay before reconciling again after a failure (doubles, capped at 30 s; default 1 s). */
  retryDelayMs?: number;
  /** How long after a report of deleted data to reconcile (heal); undefined: reports are ignored. */
  healDelayMs?: number;
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
  private retryDelayMs: number;
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
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
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
    if (this.stopped || delay === undefined || this.healTimer) return;
    this.log.info("this host's data was deleted from etcd; writing it back", { reason, inMs: delay });
    this.healTimer = setTimeout(() => {
      this.healTimer = undefined;
      void this.request('self-heal').catch(() => undefined);
    }, delay);
  }

  /** A failed write leaves a difference behind: reconcile again later, backing off while it keeps failing. */
  retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.failedSince ??= Date.now();
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2);
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
    this.retryDelayMs = this.options.retryDelayMs ?? 1_000;
  }
}
