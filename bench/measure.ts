import { readFileSync } from 'node:fs';
import type { Etcd3, IRangeRequest, IRangeResponse } from 'etcd3';
import { prefixEnd } from '../src/etcd/key-ops';
import type { Marker } from './shape';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with Docker's event timeNano. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile; NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** How many keys start with `prefix` (a count-only range: etcd sends no keys back). */
export async function countKeys(etcd: Etcd3, prefix: string): Promise<number> {
  const res = await etcd.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true });
  return Number(res.count);
}

/** etcd's current revision: every transaction that changes something bumps it by one. */
export async function revision(etcd: Etcd3): Promise<number> {
  const res = await etcd.kv.range({ key: Buffer.from('/'), count_only: true });
  return Number(res.header.revision);
}

/** One change etcd recorded. */
export interface Change {
  revision: number;
  kind: 'put' | 'delete';
  key: string;
}

export interface Changes {
  /** Transactions that changed something (distinct revisions). */
  transactions: number;
  puts: number;
  deletes: number;
}

/**
 * What etcd recorded between two revisions, replayed from its history through a watch (it still
 * holds them: nothing compacts during a run).
 */
export async function changesBetween(etcd: Etcd3, from: number, to: number, timeoutMs = 10_000): Promise<Change[]> {
  const changes: Change[] = [];
  if (to <= from) return changes;
  const watcher = await etcd
    .watch()
    .prefix('/')
    .startRevision(String(from + 1))
    .create();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd history ${from}..${to} not replayed within ${timeoutMs} ms`)), timeoutMs);
      watcher.on('data', (res) => {
        let last = 0;
        for (const event of res.events) {
          last = Number(event.kv.mod_revision);
          if (last <= to) changes.push({ revision: last, kind: event.type === 'Put' ? 'put' : 'delete', key: event.kv.key.toString() });
        }
        // History comes in batches; every revision up to `to` has at least one event, so this is the end.
        if (last >= to) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await watcher.cancel();
  }
  return changes;
}

export function countChanges(changes: readonly Change[]): Changes {
  return {
    transactions: new Set(changes.map((c) => c.revision)).size,
    puts: changes.filter((c) => c.kind === 'put').length,
    deletes: changes.filter((c) => c.kind === 'delete').length,
  };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size now and at its peak, in MiB, from /proc/<pid>/status. */
export function residentMemory(pid: number): { rssMiB: number; peakRssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

/**
 * Polls count-only ranges until every marker prefix holds the keys of at least `count` containers;
 * resolves with the wall time the last count was seen complete. Polling every 10 ms costs etcd
 * little and the figure at most one interval.
 */
export async function waitForCounts(etcd: Etcd3, markers: readonly Marker[], count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: number[] = [];
  for (;;) {
    last = await Promise.all(markers.map((m) => countKeys(etcd, m.prefix)));
    if (last.every((n, i) => n >= count * markers[i].perContainer)) return nowMs();
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${count} containers under ${markers.map((m) => m.prefix).join(', ')}; have ${last.join(', ')} keys`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** etcd's limit on operations in one transaction (`--max-txn-ops`, 128 by default). */
const TXN_OPS = 128;

/** Runs range requests in transactions of up to 128 and returns their answers in order: many small reads in few round trips. */
export async function ranges(etcd: Etcd3, requests: readonly IRangeRequest[]): Promise<IRangeResponse[]> {
  const out: IRangeResponse[] = [];
  for (let i = 0; i < requests.length; i += TXN_OPS) {
    const res = await etcd.kv.txn({ success: requests.slice(i, i + TXN_OPS).map((request_range) => ({ request_range })) });
    out.push(...res.responses.map((r) => r.response_range));
  }
  return out;
}

/** The values of these keys (absent keys are left out). */
export async function getMany(etcd: Etcd3, keys: readonly string[]): Promise<Map<string, string>> {
  const answers = await ranges(
    etcd,
    keys.map((key) => ({ key: Buffer.from(key) })),
  );
  return new Map(answers.flatMap((a) => a.kvs.map((kv): [string, string] => [kv.key.toString(), kv.value.toString()])));
}

/** Which of these keys existed at `rev` (default: now). */
export async function existing(etcd: Etcd3, keys: readonly string[], rev?: number): Promise<string[]> {
  const answers = await ranges(
    etcd,
    keys.map((key) => ({ key: Buffer.from(key), count_only: true, ...(rev ? { revision: rev } : {}) })),
  );
  return keys.filter((_, i) => Number(answers[i].count) > 0);
}
