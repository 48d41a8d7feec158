interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may not await every request; a failure is still reported to those who do.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Runs "sync this container" jobs: one at a time per container (so a container's events apply
 * in order), different containers concurrently up to `concurrency`. Requests for a container
 * that already has a job waiting are merged into it: the job re-inspects anyway, so one pass
 * covers every event that arrived before it started.
 */
export class SyncQueue {
  private readonly active = new Set<string>();
  private readonly waiting = new Map<string, Waiter>();
  private readonly ready: string[] = [];
  private running = 0;
  private paused = false;
  private closedWith?: Error;
  private drained: Array<() => void> = [];

  constructor(
    private readonly worker: (id: string) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  /** Resolves once a sync of `id` that started after this call has finished. */
  request(id: string): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const existing = this.waiting.get(id);
    if (existing) return existing.promise;
    const w = waiter();
    this.waiting.set(id, w);
    if (!this.active.has(id)) this.ready.push(id);
    this.pump();
    return w.promise;
  }

  /** Stops starting jobs; resolves when the running ones have finished. Requests keep queueing. */
  pause(): Promise<void> {
    this.paused = true;
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.drained.push(resolve));
  }

  resume(): void {
    if (this.closedWith) return;
    this.paused = false;
    this.pump();
  }

  /**
   * Starts nothing ever again (a resume no longer undoes it) and rejects every request not yet
   * started with `reason`; resolves when the running jobs have finished.
   */
  close(reason: Error): Promise<void> {
    this.closedWith = reason;
    const drained = this.pause();
    for (const w of this.waiting.values()) w.reject(reason);
    this.waiting.clear();
    this.ready.length = 0;
    return drained;
  }

  get size(): number {
    return this.running + this.waiting.size;
  }

  private pump(): void {
    while (!this.paused && this.running < this.concurrency && this.ready.length > 0) {
      const id = this.ready.shift()!;
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      this.active.add(id);
      this.running++;
      const settle = (finish: () => void) => {
        // Bookkeeping first, so a requester that awaited this job sees the queue without it.
        this.active.delete(id);
        this.running--;
        if (this.waiting.has(id)) this.ready.push(id);
        if (this.running === 0) {
          const done = this.drained;
          this.drained = [];
          done.forEach((fn) => fn());
        }
        finish();
        this.pump();
      };
      this.worker(id).then(
        () => settle(w.resolve),
        (err) => settle(() => w.reject(err)),
      );
    }
  }
}
