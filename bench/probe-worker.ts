/**
 * The body of the probe reader (bench/probe-reads.ts), in a worker thread of its own: its timer
 * and its client's callbacks do not wait behind the simulated fleet's work in the main thread.
 * Reads one key every `intervalMs`, each read sent on time whether the one before has answered or
 * not, until told to stop; then hands back every read's send time and latency.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Etcd3 } from 'etcd3';

export interface ProbeWorkerData {
  /** etcd's URL (`http://127.0.0.1:<port>`). */
  url: string;
  key: string;
  intervalMs: number;
}

/** One probe read: when it was sent (wall ms) and how long its answer took. */
export interface ProbeRead {
  at: number;
  ms: number;
  /** false: etcd had not answered when the probe stopped (ms is then the wait so far), or answered with an error. */
  answered: boolean;
  error?: string;
}

/** Longest the stop waits for reads still unanswered; they are handed back as such. */
const STOP_WAIT_MS = 10_000;

const { url, key, intervalMs } = workerData as ProbeWorkerData;
// A plain client: no deadline, retry or breaker between the read and its latency.
const client = new Etcd3({ hosts: url });
const reads: ProbeRead[] = [];
const pending = new Set<Promise<void>>();

function readOnce(): void {
  const read: ProbeRead = { at: Date.now(), ms: NaN, answered: false };
  reads.push(read);
  const started = performance.now();
  const done = client
    .get(key)
    .buffer()
    .then(
      () => {
        read.ms = performance.now() - started;
        read.answered = true;
      },
      (err: Error) => {
        read.ms = performance.now() - started;
        read.error = err.message;
      },
    )
    .finally(() => pending.delete(done));
  pending.add(done);
}

const timer = setInterval(readOnce, intervalMs);
readOnce();

parentPort!.once('message', () => {
  clearInterval(timer);
  let waited: NodeJS.Timeout | undefined;
  void Promise.race([Promise.all(pending), new Promise((resolve) => (waited = setTimeout(resolve, STOP_WAIT_MS)))]).then(() => {
    clearTimeout(waited);
    // An unanswered read counts for at least as long as it has waited.
    const now = Date.now();
    for (const read of reads) if (Number.isNaN(read.ms)) read.ms = now - read.at;
    parentPort!.postMessage(reads);
    client.close();
  });
});
