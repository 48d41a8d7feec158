import type { Logger } from '../log';
import type { WriterState } from '../observer';
import type { Writer } from '../writer';
import { constantBackoff } from '../retry-backoff';

/** A writer that never answered within its startup retries. */
export class WriterUnreachableError extends Error {
  constructor(writer: string, attempts: number, cause: unknown) {
    super(
      `${writer} still unreachable after ${attempts + 1} attempts (-retry-attempts ${attempts}): ${(cause as Error)?.message ?? cause}`,
    );
    this.name = 'WriterUnreachableError';
  }
}

export interface AdmissionOptions {
  /**
   * `-retry-attempts` / `-retry-interval`: how often a writer that does not answer its first ping
   * is pinged again before giving up (`attempts` -1: never gives up; the default, every 2 s).
   */
  startupRetry?: { attempts: number; intervalMs: number };
  /** A writer is still unreachable after its retries (WriterUnreachableError). */
  onFatal?: (err: Error) => void;
  /** A writer that did not answer at start answered at last: it needs a reconciliation to join. */
  onReachable(writer: Writer): void;
}

/**
 * Which writers get syncs. A writer is admitted once it answers its first ping (at once when it has
 * none); an admitted writer is in step from a reconciliation that loaded its held state until its
 * first failed write, reload or clean-up. Only writers in step are written to.
 */
export class WriterAdmission {
  /** Writers not yet admitted: their first ping has not answered. */
  private readonly pending = new Set<Writer>();
  /** Writers that loaded their held state and have not failed since. */
  private readonly inStep = new Set<Writer>();
  private readonly sleeps = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Settles once every writer answered its first ping or was set pending. */
  private pinged: Promise<void> = Promise.resolve();

  constructor(
    private readonly writers: readonly Writer[],
    private readonly log: Logger,
    private readonly options: AdmissionOptions,
  ) {}

  /** Pings every writer once; one that does not answer stays pending and is pinged again in the background. */
  start(): void {
    this.pinged = this.pingWriters();
  }

  /** Resolves once every writer has answered its first ping or been set pending. */
  firstPings(): Promise<void> {
    return this.pinged;
  }

  /** The writers that answered their first ping. */
  admitted(): Writer[] {
    return this.writers.filter((w) => !this.pending.has(w));
  }

  /** The writers that get syncs. */
  inStepWriters(): Writer[] {
    return [...this.inStep];
  }

  /** A reconciliation loaded its held state (true), or one of its writes, reloads or clean-ups failed (false). */
  setInStep(writer: Writer, inStep: boolean): void {
    if (inStep) this.inStep.add(writer);
    else this.inStep.delete(writer);
  }

  state(writer: Writer): WriterState {
    return this.pending.has(writer) ? 'unreachable' : this.inStep.has(writer) ? 'in-step' : 'out-of-step';
  }

  /** Pings no more. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.sleeps) clearTimeout(timer);
  }

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

  /** Pings a writer that did not answer at start every `-retry-interval` until it does or the attempts run out. */
  private async admitWhenReachable(writer: Writer, firstError: unknown): Promise<void> {
    const { attempts, intervalMs } = this.options.startupRetry ?? { attempts: -1, intervalMs: 2_000 };
    let err = firstError;
    let wait = constantBackoff(intervalMs);
    for (let attempt = 1; !this.stopped; attempt++, wait = wait.next(undefined)) {
      if (attempts >= 0 && attempt > attempts) {
        this.options.onFatal?.(new WriterUnreachableError(writer.name, attempts, err));
        return;
      }
      this.log.warn('writer unreachable; retrying', {
        writer: writer.name,
        attempt,
        of: attempts < 0 ? 'unlimited' : attempts,
        inMs: wait.duration,
        err,
      });
      await this.sleep(wait.duration);
      if (this.stopped) return;
      try {
        await writer.ping!();
      } catch (e) {
        err = e;
        continue;
      }
      this.pending.delete(writer);
      this.log.info('writer reachable', { writer: writer.name, attempt });
      this.options.onReachable(writer);
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
}
