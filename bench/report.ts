import { writeFileSync } from 'node:fs';
import type { MemoryFigures } from './daemon-run';
import { COMMAND_GOAL, type CommandsResult } from './scenarios/commands';
import { FLEET_GOAL, FleetLife, FleetResult } from './scenarios/fleet';
import type { LatencySamples } from './scenarios/latency';
import { REFILL_GOALS, RefillResult, RefillRun } from './scenarios/refill';
import { FAILURE_KINDS } from './simulated-host';
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
  settings: { parts: string[]; sizes: number[]; rounds: number; latencySamples: number; fleet?: string; refill?: string };
  configurations: ConfigurationResult[];
  /** The fleet part (BENCH_PARTS, BENCH_FLEET). */
  fleet?: FleetResult;
  /** The refill part (BENCH_PARTS, BENCH_REFILL). */
  refill?: RefillResult;
  /** The commands part: quick commands against `node -e 0`. */
  commands?: CommandsResult;
}

/** The figures of the fleet part, each compared filled / empty. */
const FLEET_FIGURES: Array<{ name: string; label: string; of: (l: FleetLife) => number; show: (x: number) => string }> = [
  { name: 'startMs', label: 'start to first reconciliation', of: (l) => l.startMs, show: (x) => ms(x) },
  { name: 'sighupMs', label: 'idle SIGHUP to reconciled', of: (l) => l.sighupMs, show: (x) => ms(x) },
  { name: 'sigtermMs', label: 'SIGTERM to exit', of: (l) => l.sigtermMs, show: (x) => ms(x) },
  { name: 'sighupSentBytes', label: 'bytes etcd sent for an idle SIGHUP', of: (l) => l.sighupSentBytes, show: (x) => bytes(x) },
  { name: 'rssMiB', label: 'RSS after first reconciliation', of: (l) => l.memory.rssMiB, show: (x) => mib(x) },
];

const ms = (x: number) => `${Math.round(x)} ms`;
const mib = (x: number) => `${x.toFixed(1)} MiB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const bytes = (x: number) => (x < 1024 * 1024 ? `${(x / 1024).toFixed(1)} KiB` : `${(x / 1024 / 1024).toFixed(2)} MiB`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const writes = (w: WriteCounts) =>
  `${w.transactions} txn / ${w.puts} put / ${w.deletes} del${w.foreignEvents ? ` (other users' containers had ${w.foreignEvents} event(s); their ${w.foreignWrites} writes left out)` : ''}`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Medians over rounds of the fleet part, their ratios filled / empty, and the checks summed over rounds. */
function summariseFleet(fleet: FleetResult) {
  return fleet.configurations.map((c) => ({
    name: c.name,
    fleetKeys: c.fleetKeys,
    figures: FLEET_FIGURES.map((f) => {
      const empty = median(c.empty.map(f.of));
      const filled = median(c.filled.map(f.of));
      return { name: f.name, empty, filled, ratio: filled / empty, met: filled / empty <= FLEET_GOAL };
    }),
    checks: (['empty', 'filled'] as const).map((etcd) => {
      const lives = c[etcd];
      return {
        etcd,
        rounds: lives.length,
        ownKeys: {
          missing: sum(lives.map((l) => l.checks.missing)),
          wrong: sum(lives.map((l) => l.checks.wrong)),
          extra: sum(lives.map((l) => l.checks.extra)),
        },
        othersChanged: sum(lives.map((l) => l.checks.othersChanged)),
        leftAfterSigterm: sum(lives.map((l) => l.checks.leftAfterSigterm)),
        exitCodes: lives.map((l) => l.exitCode),
        keysBefore: lives.map((l) => l.checks.keysBefore),
        keysAfter: lives.map((l) => l.checks.keysAfter),
        quietSentBytes: sum(lives.map((l) => l.quietSentBytes)),
        containersReconciled: lives.flatMap((l) => [l.firstContainers, l.sighupContainers]),
      };
    }),
  }));
}

/** Medians over rounds and percentiles over samples, as printed and as stored in the JSON summary. */
function summarise(results: BenchResults) {
  return results.configurations
    .filter((c) => c.sizes.length > 0)
    .map((c) => ({
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

/** The tables of the parts that ran, in Markdown so they can go into docs/performance.md as they are. */
export function renderTables(results: BenchResults): string {
  const summary = summarise(results);
  const startup = table(
    [
      'configuration',
      'containers',
      'reference',
      'daemon',
      'ratio (goal <= 2)',
      'ratio after node start',
      'of which: node start',
      'connect',
      'reconcile',
      'CPU reference / daemon',
    ],
    summary.flatMap((c) =>
      c.startup.map((s) => [
        c.name,
        String(s.containers),
        ms(s.referenceMs),
        ms(s.daemonMs),
        ratio(s.daemonMs, s.referenceMs),
        `${s.ratioAfterNodeStart.toFixed(2)}x`,
        ms(s.nodeStartMs),
        ms(s.connectMs),
        ms(s.reconcileMs),
        `${ms(s.referenceCpuMs)} / ${ms(s.daemonCpuMs)}`,
      ]),
    ),
  );
  const latency = table(
    ['configuration', 'starts (missed)', 'reference p50', 'reference p99', 'daemon p50', 'daemon p99', 'p50 ratio (goal <= 1.5)'],
    summary.flatMap((c) =>
      c.latency
        ? [
            [
              c.name,
              `${c.latency.samples} (${c.latency.missed})`,
              ms(c.latency.reference.p50),
              ms(c.latency.reference.p99),
              ms(c.latency.daemon.p50),
              ms(c.latency.daemon.p99),
              `${c.latency.ratioP50.toFixed(2)}x`,
            ],
          ]
        : [],
    ),
  );
  const etcdWrites = table(
    ['configuration', 'SIGHUP, nothing changed (goal 0)', 'that SIGHUP took', 'one container start'],
    summary.flatMap((c) => (c.writes ? [[c.name, writes(c.writes.sighupIdle), ms(c.writes.sighupMs), writes(c.writes.oneStart)]] : [])),
  );
  const memory = table(
    ['configuration', 'containers', 'RSS (goal < 150 MB at 1,000)', 'peak RSS', 'heap used after GC', 'heap total', 'external'],
    summary.flatMap((c) =>
      c.startup.map((s) => [
        c.name,
        String(s.containers),
        mib(s.memory.rssMiB),
        mib(s.memory.peakRssMiB),
        mib(s.memory.heapUsedMiB),
        mib(s.memory.heapTotalMiB),
        mib(s.memory.externalMiB),
      ]),
    ),
  );
  const { machine, settings } = results;
  const head =
    `${machine.cpus} CPUs, Node ${machine.node}, Docker ${machine.docker}, etcd ${machine.etcd}; parts ${settings.parts.join(', ')}; ` +
    `${settings.parts.includes('startup') ? `sizes ${settings.sizes.join(', ')}, ${settings.latencySamples} latency samples, ` : ''}` +
    `${settings.fleet ? `fleet ${settings.fleet}, ` : ''}${settings.refill ? `refill ${settings.refill}, ` : ''}median of ${settings.rounds} round(s)`;
  const sections = [head];
  if (summary.length > 0) {
    sections.push(`Startup sync (spawn to every container in etcd; median of rounds)\n${startup}`);
    sections.push(`Event to key latency (Docker start event to keys in etcd)\n${latency}`);
    sections.push(`etcd writes of a synced daemon\n${etcdWrites}`);
    sections.push(`Memory once synced\n${memory}`);
  }
  if (results.commands) sections.push(renderCommands(results.commands));
  if (results.fleet) sections.push(...renderFleet(results.fleet));
  if (results.refill) sections.push(...renderRefill(results.refill));
  return sections.join('\n\n');
}

/** The commands part: each quick command's whole process against `node -e 0`. */
function renderCommands(result: CommandsResult): string {
  const rows = result.commands.map((c) => [
    `registrator ${c.args.join(' ')}`,
    ms(c.ms),
    `${c.ratio.toFixed(2)}x`,
    c.args[0] === '--version' ? (c.ratio <= COMMAND_GOAL ? 'yes' : 'NO') : '',
  ]);
  const head = ['command (whole process)', 'median', `vs node -e 0 (${ms(result.nodeMs)})`, `--version goal <= ${COMMAND_GOAL}x met`];
  return `Quick commands (median of ${result.rounds}, alternated with node -e 0)\n${table(head, rows)}`;
}

/** Key counts of the rounds: one figure when they agree. */
const counts = (xs: number[]) => [...new Set(xs)].map((n) => n.toLocaleString('en')).join(', ');

/** The fleet part's two tables: the figures on both etcds with their ratios, and what was checked. */
function renderFleet(fleet: FleetResult): string[] {
  const summary = summariseFleet(fleet);
  const figures = table(
    ['configuration', 'figure', 'empty etcd', `filled etcd (${fleet.hosts} x ${fleet.containers})`, `ratio (goal <= ${FLEET_GOAL})`, 'met'],
    summary.flatMap((c) =>
      c.figures.map((f, i) => {
        const show = FLEET_FIGURES[i].show;
        return [
          c.name,
          FLEET_FIGURES[i].label,
          show(f.empty),
          show(f.filled),
          Number.isFinite(f.ratio) ? `${f.ratio.toFixed(2)}x` : 'n/a',
          f.met ? 'yes' : 'NO',
        ];
      }),
    ),
  );
  const checks = table(
    [
      'configuration',
      'etcd',
      'keys in etcd before / after the daemon',
      'containers reconciled',
      'own keys after first reconciliation (missing / wrong / extra)',
      "other hosts' keys changed (goal 0)",
      'left after SIGTERM (goal 0)',
      'exit status after SIGTERM',
    ],
    summary.flatMap((c) =>
      c.checks.map((k) => [
        c.name,
        k.etcd,
        `${counts(k.keysBefore)} / ${counts(k.keysAfter)}`,
        counts(k.containersReconciled),
        `${k.ownKeys.missing} / ${k.ownKeys.wrong} / ${k.ownKeys.extra}${k.ownKeys.missing + k.ownKeys.wrong + k.ownKeys.extra === 0 ? ' (exact)' : ''}`,
        String(k.othersChanged),
        String(k.leftAfterSigterm),
        [...new Set(k.exitCodes)].join(', '),
      ]),
    ),
  );
  const latency = table(
    ['request', 'empty etcd', 'filled etcd', 'ratio'],
    (fleet.etcdLatency ?? []).map((l) => [
      l.request,
      `${l.emptyMs.toFixed(2)} ms`,
      `${l.filledMs.toFixed(2)} ms`,
      `${(l.filledMs / l.emptyMs).toFixed(2)}x`,
    ]),
  );
  return [
    `Fleet: one daemon on a host with ${fleet.containers} containers, etcd empty or also holding ${fleet.hosts} other hosts x ${fleet.containers} containers (median of rounds)\n${figures}`,
    `Fleet: what was checked (summed over rounds)\n${checks}`,
    ...(fleet.etcdLatency ? [`Fleet: etcd's own cost of the same request on each etcd (median of 200)\n${latency}`] : []),
  ];
}

/** Each refill against the goals: every host back, the daemon's requests per needed write, the probe's p99. */
function summariseRefill(refill: RefillResult) {
  return refill.runs.map((r) => ({
    schedule: r.schedule,
    convergedMs: r.convergedMs ?? null,
    hostsConverged: `${r.hostsConverged}/${r.hosts}`,
    requestsPerWrite: r.daemon.requestsPerWrite,
    probeP99Ms: r.probe.refill.p99Ms,
    probeP99Ratio: r.probe.p99Ratio,
    met: {
      converged: r.convergedMs !== undefined && r.hostsConverged === r.hosts,
      requestsPerWrite: r.daemon.requestsPerWrite <= REFILL_GOALS.requestsPerWrite,
      probeP99: r.probe.refill.p99Ms < REFILL_GOALS.probeP99Ms,
    },
  }));
}

const seconds = (x: number | undefined) => (x === undefined ? 'not within the bound' : `${(x / 1000).toFixed(1)} s`);
const yesNo = (met: boolean) => (met ? 'yes' : 'NO');
const probe = (p: RefillRun['probe']['idle']) =>
  `${ms(p.p50Ms)} / ${ms(p.p99Ms)} / ${ms(p.maxMs)}${p.unanswered ? ` (${p.unanswered} of ${p.reads} unanswered)` : ` (${p.reads} reads)`}`;

/** The refill part's tables: the goals for each schedule, then what every host and etcd went through. */
function renderRefill(refill: RefillResult): string[] {
  const runs = refill.runs;
  const summary = summariseRefill(refill);
  const names: Record<RefillRun['schedule'], string> = {
    fleet: 'fleet-sized window (now)',
    'one-second': 'one-second window (before)',
  };
  const name = (r: RefillRun) => names[r.schedule];
  const goals = table(
    [
      'schedule',
      'purge to every host back (goal: all converge)',
      'hosts back',
      `daemon's requests per needed write (goal <= ${REFILL_GOALS.requestsPerWrite})`,
      'probe p99 during the refill (goal < 1 s)',
      'vs idle',
      'met',
    ],
    runs.map((r, i) => [
      name(r),
      seconds(r.convergedMs),
      `${r.hostsConverged} / ${r.hosts}`,
      `${r.daemon.requestsPerWrite.toFixed(2)} (${r.daemon.requests - r.daemon.backgroundRequests} for ${r.daemon.neededWrites}; with its background ${r.daemon.allRequestsPerWrite.toFixed(2)})`,
      ms(r.probe.refill.p99Ms),
      `${r.probe.p99Ratio.toFixed(2)}x`,
      [summary[i].met.converged, summary[i].met.requestsPerWrite, summary[i].met.probeP99].map(yesNo).join(' / '),
    ]),
  );
  const figure = (label: string, of: (r: RefillRun) => string): string[] => [label, ...runs.map(of)];
  const failures = (r: RefillRun) =>
    FAILURE_KINDS.filter((k) => r.simulated.failures[k] > 0)
      .map((k) => `${r.simulated.failures[k]} ${k}`)
      .join(', ') || 'none';
  const details = table(
    ['figure', ...runs.map(name)],
    [
      figure(
        'claims counted / window / longest simulated delay',
        (r) => `${r.claims} / ${seconds(r.windowMs)} / ${seconds(r.longestDelayMs)}`,
      ),
      figure('purge of the mirror prefix (deletions of up to 10,000 keys)', (r) => `${seconds(r.purgeMs)} (${r.purgeDeletions})`),
      figure('mirror keys before / after', (r) => `${r.keysBefore.toLocaleString('en')} / ${r.keysAfter.toLocaleString('en')}`),
      figure('simulated hosts back: median / last', (r) => `${seconds(r.simulated.medianDoneMs)} / ${seconds(r.simulated.lastDoneMs)}`),
      figure(
        'simulated: entries written / reconciliations',
        (r) => `${r.simulated.written.toLocaleString('en')} / ${r.simulated.attempts.toLocaleString('en')}`,
      ),
      figure('simulated: hosts that retried / most attempts', (r) => `${r.simulated.hostsRetried} / ${r.simulated.mostAttempts}`),
      figure('simulated: failed requests', failures),
      figure(
        'daemon: delay it logged / keys back / reconciled',
        (r) => `${seconds(r.daemon.delayMs)} / ${seconds(r.daemon.keysBackMs)} / ${seconds(r.daemon.reconciledMs)}`,
      ),
      figure('daemon: failed reconciliations / failed writes', (r) => `${r.daemon.failedReconciliations} / ${r.daemon.failedWrites}`),
      figure(
        'daemon: requests in the 10 s before the purge / that rate over the refill',
        (r) => `${r.daemon.idleRequests} / ${r.daemon.backgroundRequests}`,
      ),
      figure('probe: slowest reads (after the purge: latency)', (r) =>
        r.probe.slowest.map((x) => `${seconds(x.afterPurgeMs)}: ${ms(x.ms)}`).join(', '),
      ),
      figure('probe on the idle etcd: p50 / p99 / max', (r) => probe(r.probe.idle)),
      figure('probe during the refill: p50 / p99 / max', (r) => probe(r.probe.refill)),
      figure(
        'CPU from the purge on: etcd / bench (simulated hosts) / daemon',
        (r) => `${seconds(r.cpuMs.etcd)} / ${seconds(r.cpuMs.bench)} / ${seconds(r.cpuMs.daemon)} in ${seconds(r.wallMs)}`,
      ),
    ],
  );
  return [
    `Refill: ${refill.hosts} hosts x ${refill.containers} containers (${refill.hosts - 1} simulated, one real daemon) after a purge of the whole mirror\n${goals}`,
    `Refill: what each refill went through (request counter check: ${refill.counterCheck.counted} streams counted for ${refill.counterCheck.sent} requests)\n${details}`,
  ];
}

export function writeResults(path: string, results: BenchResults): void {
  const fleetSummary = results.fleet ? { fleetSummary: summariseFleet(results.fleet) } : {};
  const refillSummary = results.refill ? { refillSummary: summariseRefill(results.refill) } : {};
  writeFileSync(path, `${JSON.stringify({ ...results, summary: summarise(results), ...fleetSummary, ...refillSummary }, null, 2)}\n`);
}
