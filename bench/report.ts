import { writeFileSync } from 'node:fs';
import type { MemoryFigures } from './daemon-run';
import type { LatencySamples } from './scenarios/latency';
import type { StartupRound } from './scenarios/startup';
import type { WriteCounts, WritesResult } from './scenarios/writes';
import { median, percentile } from './measure';

export interface SizeResult {
  containers: number;
  rounds: StartupRound[];
  /** Memory of the last round's daemon once synced. */
  memory: MemoryFigures;
}

export interface ConfigurationResult {
  name: string;
  args: string[];
  sizes: SizeResult[];
  writes?: WritesResult;
  latency?: LatencySamples;
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string; docker: string; etcd: string };
  settings: { sizes: number[]; rounds: number; latencySamples: number };
  configurations: ConfigurationResult[];
}

const ms = (x: number) => `${Math.round(x)} ms`;
const mib = (x: number) => `${x.toFixed(1)} MiB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const writes = (w: WriteCounts) =>
  `${w.transactions} txn / ${w.puts} put / ${w.deletes} del${w.foreignEvents ? ` (other users' containers had ${w.foreignEvents} event(s); their ${w.foreignWrites} writes left out)` : ''}`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Medians over rounds and percentiles over samples, as printed and as stored in the JSON summary. */
export function summarise(results: BenchResults) {
  return results.configurations.map((c) => ({
    name: c.name,
    startup: c.sizes.map((s) => {
      const referenceMs = median(s.rounds.map((r) => r.referenceMs));
      const daemonMs = median(s.rounds.map((r) => r.daemonMs));
      return {
        containers: s.containers,
        referenceMs,
        daemonMs,
        ratio: daemonMs / referenceMs,
        /** The same without Node's start and module loading, which the reference (in a running process) does not pay. */
        ratioAfterNodeStart: (daemonMs - median(s.rounds.map((r) => r.nodeStartMs))) / referenceMs,
        referenceCpuMs: median(s.rounds.map((r) => r.referenceCpuMs)),
        daemonCpuMs: median(s.rounds.map((r) => r.daemonCpuMs)),
        nodeStartMs: median(s.rounds.map((r) => r.nodeStartMs)),
        connectMs: median(s.rounds.map((r) => r.connectMs)),
        reconcileMs: median(s.rounds.map((r) => r.reconcileMs)),
        memory: s.memory,
      };
    }),
    latency: c.latency && {
      samples: c.latency.daemonMs.length,
      reference: { p50: percentile(c.latency.referenceMs, 50), p99: percentile(c.latency.referenceMs, 99) },
      daemon: { p50: percentile(c.latency.daemonMs, 50), p99: percentile(c.latency.daemonMs, 99) },
      ratioP50: percentile(c.latency.daemonMs, 50) / percentile(c.latency.referenceMs, 50),
      missed: c.latency.missed.length,
    },
    writes: c.writes,
  }));
}

/** The four tables, in Markdown so they can go into docs/performance.md as they are. */
export function renderTables(results: BenchResults): string {
  const summary = summarise(results);
  const startup = table(
    ['configuration', 'containers', 'reference', 'daemon', 'ratio (goal <= 2)', 'ratio after node start', 'of which: node start', 'connect', 'reconcile', 'CPU reference / daemon'],
    summary.flatMap((c) =>
      c.startup.map((s) => [c.name, String(s.containers), ms(s.referenceMs), ms(s.daemonMs), ratio(s.daemonMs, s.referenceMs), `${s.ratioAfterNodeStart.toFixed(2)}x`, ms(s.nodeStartMs), ms(s.connectMs), ms(s.reconcileMs), `${ms(s.referenceCpuMs)} / ${ms(s.daemonCpuMs)}`]),
    ),
  );
  const latency = table(
    ['configuration', 'starts (missed)', 'reference p50', 'reference p99', 'daemon p50', 'daemon p99', 'p50 ratio (goal <= 1.5)'],
    summary.flatMap((c) => (c.latency ? [[c.name, `${c.latency.samples} (${c.latency.missed})`, ms(c.latency.reference.p50), ms(c.latency.reference.p99), ms(c.latency.daemon.p50), ms(c.latency.daemon.p99), `${c.latency.ratioP50.toFixed(2)}x`]] : [])),
  );
  const etcdWrites = table(
    ['configuration', 'SIGHUP, nothing changed (goal 0)', 'that SIGHUP took', 'one container start'],
    summary.flatMap((c) => (c.writes ? [[c.name, writes(c.writes.sighupIdle), ms(c.writes.sighupMs), writes(c.writes.oneStart)]] : [])),
  );
  const memory = table(
    ['configuration', 'containers', 'RSS (goal < 150 MB at 1,000)', 'peak RSS', 'heap used after GC', 'heap total', 'external'],
    summary.flatMap((c) => c.startup.map((s) => [c.name, String(s.containers), mib(s.memory.rssMiB), mib(s.memory.peakRssMiB), mib(s.memory.heapUsedMiB), mib(s.memory.heapTotalMiB), mib(s.memory.externalMiB)])),
  );
  const { machine, settings } = results;
  return [
    `${machine.cpus} CPUs, Node ${machine.node}, Docker ${machine.docker}, etcd ${machine.etcd}; sizes ${settings.sizes.join(', ')}, median of ${settings.rounds} round(s), ${settings.latencySamples} latency samples`,
    '',
    'Startup sync (spawn to every container in etcd; median of rounds)',
    startup,
    '',
    'Event to key latency (Docker start event to keys in etcd)',
    latency,
    '',
    'etcd writes of a synced daemon',
    etcdWrites,
    '',
    'Memory once synced',
    memory,
  ].join('\n');
}

export function writeResults(path: string, results: BenchResults): void {
  writeFileSync(path, `${JSON.stringify({ ...results, summary: summarise(results) }, null, 2)}\n`);
}
