import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { percentile } from './measure';
import type { ProbeRead, ProbeWorkerData } from './probe-worker';

export type { ProbeRead } from './probe-worker';

/** A span's probe reads summed up. */
export interface ProbeFigures {
  reads: number;
  /** Reads not answered, or answered with an error (each counts in the percentiles with the time it waited). */
  unanswered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * A reader of etcd's responsiveness, as any client of the fleet's etcd sees it: one key read
 * every `intervalMs` by a client of its own in a worker thread (bench/probe-worker.ts), from
 * start() until stop(). The reads of any span are summed up afterwards (an idle span, a refill).
 */
export class ProbeReads {
  private worker?: Worker;

  constructor(private readonly options: ProbeWorkerData) {}

  start(): void {
    this.worker = new Worker(join(__dirname, 'probe-worker.js'), { workerData: this.options });
  }

  /** Stops reading and resolves with every read made (reads still unanswered are waited for up to 10 s). */
  async stop(): Promise<ProbeRead[]> {
    const worker = this.worker;
    if (!worker) return [];
    this.worker = undefined;
    const reads = new Promise<ProbeRead[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    worker.postMessage('stop');
    try {
      return await reads;
    } finally {
      await worker.terminate();
    }
  }
}

/** The reads sent in [from, to) (wall ms), summed up. */
export function probeFigures(reads: readonly ProbeRead[], from: number, to: number): ProbeFigures {
  const span = reads.filter((r) => r.at >= from && r.at < to);
  const ms = span.map((r) => r.ms);
  return {
    reads: span.length,
    unanswered: span.filter((r) => !r.answered).length,
    p50Ms: percentile(ms, 50),
    p99Ms: percentile(ms, 99),
    maxMs: ms.length ? Math.max(...ms) : NaN,
  };
}
