/**
 * The benchmark: the daemon (the built CLI as a child process) against a bare reference loop, on
 * the same real dockerd and etcd in the same run. See docs/performance.md.
 *
 *   npm run bench
 *   BENCH_PARTS=commands,fleet,refill,startup  BENCH_FLEET=1000x100  BENCH_REFILL=1000x100  (0: no fleet / refill part)
 *   BENCH_REFILL_SCHEDULES=fleet,one-second
 *   BENCH_SIZES=200,500,1000  BENCH_ROUNDS=3  BENCH_LATENCY_SAMPLES=50  BENCH_OUT=bench-results.json
 *   BENCH_CONFIGURATIONS=mirror,mirror+hamesh+etcd  BENCH_CPU_PROF=<dir>  BENCH_DOCKER_SOCKET=/var/run/docker.sock  BENCH_NODE_OPTIONS=<flags>
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import Docker from 'dockerode';
import { ensureTestImage } from '../test/support/docker';
import { EtcdServer, EtcdServerOptions } from '../test/support/etcd';
import { CONFIGURATIONS } from './configurations';
import type { BenchContext } from './context';
import { BenchDaemon } from './daemon-run';
import { Fleet } from './fleet';
import { BenchResults, ConfigurationResult, renderTables, SizeResult, writeResults } from './report';
import { commandsScenario } from './scenarios/commands';
import { FleetResult, fleetScenario, FleetSpec } from './scenarios/fleet';
import { latencyScenario } from './scenarios/latency';
import { RefillResult, refillScenario, RefillSpec, SCHEDULES } from './scenarios/refill';
import type { Schedule } from './simulated-host';
import { startupRound } from './scenarios/startup';
import { writesScenario } from './scenarios/writes';

function numbers(name: string, fallback: string): number[] {
  const values = (process.env[name] ?? fallback).split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name} must be positive whole numbers, comma separated`);
  return values;
}

const SIZES = [...new Set(numbers('BENCH_SIZES', '200,500,1000'))].sort((a, b) => a - b);
const [ROUNDS] = numbers('BENCH_ROUNDS', '3');
const [SAMPLES] = numbers('BENCH_LATENCY_SAMPLES', '50');
const OUT = process.env.BENCH_OUT ?? 'bench-results.json';
const WANTED = (process.env.BENCH_CONFIGURATIONS ?? CONFIGURATIONS.map((c) => c.name).join(',')).split(',');
const SELECTED = CONFIGURATIONS.filter((c) => WANTED.includes(c.name));
/** `<hosts>x<containers>` from an environment variable, `0` for none. */
function hostsByContainers(name: string, fallback: string): { hosts: number; containers: number } | undefined {
  const text = process.env[name] ?? fallback;
  if (text.trim() === '0') return undefined;
  const match = /^\s*(\d+)\s*x\s*(\d+)\s*$/.exec(text);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new Error(`${name} must be <hosts>x<containers> (e.g. 1000x100), or 0`);
  return { hosts: Number(match[1]), containers: Number(match[2]) };
}

/** `<hosts>x<containers>` other hosts in the fleet part's filled etcd; `0` skips that part. */
const FLEET = process.env.BENCH_FLEET ?? '1000x100';
const FLEET_SPEC: FleetSpec | undefined = hostsByContainers('BENCH_FLEET', '1000x100');
/** `<hosts>x<containers>` of the refill part's fleet, its one real daemon included; `0` skips that part. */
const REFILL = process.env.BENCH_REFILL ?? '1000x100';
const REFILL_SCHEDULES = (process.env.BENCH_REFILL_SCHEDULES ?? SCHEDULES.join(',')).split(',').map((s) => s.trim()) as Schedule[];
if (REFILL_SCHEDULES.some((s) => !SCHEDULES.includes(s)))
  throw new Error(`BENCH_REFILL_SCHEDULES: one or more of ${SCHEDULES.join(', ')}, comma separated`);
const REFILL_FLEET = hostsByContainers('BENCH_REFILL', '1000x100');
const REFILL_SPEC: RefillSpec | undefined = REFILL_FLEET && { ...REFILL_FLEET, schedules: REFILL_SCHEDULES };
if (REFILL_SPEC && REFILL_SPEC.hosts < 2) throw new Error('BENCH_REFILL needs at least 2 hosts: the daemon and a simulated one');
/**
 * The parts to run, in this order: the quick commands (no engine needed), then the fleet and refill
 * parts (on a host with few containers) before the startup part grows the fleet.
 */
const PART_NAMES = ['commands', 'fleet', 'refill', 'startup'] as const;
/** Rounds of the commands part: each is a handful of ~0.1 s processes. */
const COMMAND_ROUNDS = 11;
const PARTS = (process.env.BENCH_PARTS ?? PART_NAMES.join(',')).split(',').map((p) => p.trim());
/** Whether the fleet part (etcd with a fleet's data vs empty) runs: it takes minutes to fill. */
const FLEET_PART = PARTS.includes('fleet') && FLEET_SPEC !== undefined;
/** Whether the refill part (a whole fleet healing after a purge, twice) runs: it takes minutes to fill and to refill. */
const REFILL_PART = PARTS.includes('refill') && REFILL_SPEC !== undefined;
/** Whether the startup part (startup sync, then latency, writes and memory with the synced daemon) runs. */
const STARTUP_PART = PARTS.includes('startup');
/** etcd's backend quota for the fleet and refill parts' etcds: 1.7 M keys and their history outgrow the 2 GiB default. */
const FLEET_QUOTA_BYTES = 8 * 1024 * 1024 * 1024;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Every etcd of the run still running: stopped, data dir removed, also when the run fails or is interrupted. */
const etcds = new Set<EtcdServer>();

async function startEtcd(options?: EtcdServerOptions): Promise<EtcdServer> {
  const server = await EtcdServer.start(options);
  etcds.add(server);
  return server;
}

async function stopEtcd(server: EtcdServer): Promise<void> {
  etcds.delete(server);
  await server.stop();
}

async function main(): Promise<void> {
  if (SELECTED.length === 0) throw new Error(`BENCH_CONFIGURATIONS names none of ${CONFIGURATIONS.map((c) => c.name).join(', ')}`);
  const unknown = PARTS.filter((p) => !(PART_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_PARTS: unknown ${unknown.join(', ')} (parts: ${PART_NAMES.join(', ')})`);
  if (!PARTS.includes('commands') && !FLEET_PART && !REFILL_PART && !STARTUP_PART)
    throw new Error('nothing to run: BENCH_PARTS names only parts whose size is 0 (BENCH_FLEET, BENCH_REFILL)');
  // Both parts run on the bench's first containers; the refill part cannot run on fewer than the fleet part started.
  if (FLEET_PART && REFILL_PART && REFILL_SPEC!.containers < FLEET_SPEC!.containers)
    throw new Error(
      `BENCH_REFILL's containers (${REFILL_SPEC!.containers}) cannot be fewer than BENCH_FLEET's (${FLEET_SPEC!.containers})`,
    );
  await ensureTestImage();
  const docker = new Docker({ socketPath: process.env.BENCH_DOCKER_SOCKET ?? '/var/run/docker.sock' });
  const fleet = new Fleet(docker, String(process.pid));
  let cleaning: Promise<void> | undefined;
  // Once only, whether the run ends, fails or is interrupted.
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await Promise.all([...BenchDaemon.running].map((d) => d.stop().catch(() => undefined)));
      await fleet.remove().catch((err) => say(`could not remove every container: ${err}`));
      await Promise.all([...etcds].map(stopEtcd));
    })());
  // An interrupted run still removes its containers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.versions.node,
      docker: (await docker.version()).Version,
      etcd: execFileSync('etcd', ['--version'])
        .toString()
        .split('\n')[0]
        .replace(/^etcd Version:\s*/, ''),
    },
    settings: {
      parts: PART_NAMES.filter((p) => ({ commands: PARTS.includes(p), fleet: FLEET_PART, refill: REFILL_PART, startup: STARTUP_PART })[p]),
      sizes: SIZES,
      rounds: ROUNDS,
      latencySamples: SAMPLES,
      ...(FLEET_PART ? { fleet: FLEET } : {}),
      ...(REFILL_PART ? { refill: REFILL } : {}),
    },
    configurations: SELECTED.map((c): ConfigurationResult => ({ name: c.name, args: c.args, sizes: [] })),
  };
  try {
    if (PARTS.includes('commands')) results.commands = commandsScenario(COMMAND_ROUNDS);
    if (FLEET_PART) results.fleet = await fleetPart(docker, fleet);
    if (REFILL_PART) results.refill = await refillPart(docker, fleet);
    if (STARTUP_PART) await startupPart({ docker, etcd: await startEtcd(), fleet, cpuProfileDir: process.env.BENCH_CPU_PROF }, results);
    say('');
    say(renderTables(results));
    writeResults(OUT, results);
    say(`\nwritten to ${OUT}`);
  } finally {
    await cleanUp();
  }
}

/**
 * Two etcds of its own (one stays empty, one gets the fleet's data), stopped once done: gigabytes
 * of fleet data do not stay around while the startup part is timed.
 */
async function fleetPart(docker: Docker, fleet: Fleet): Promise<FleetResult> {
  say('fleet part: starting two etcds (one stays empty, one gets the fleet)...');
  const [empty, filled] = await Promise.all([startEtcd({ quotaBytes: FLEET_QUOTA_BYTES }), startEtcd({ quotaBytes: FLEET_QUOTA_BYTES })]);
  try {
    return await fleetScenario({ docker, fleet, empty, filled, say }, SELECTED, FLEET_SPEC!, ROUNDS);
  } finally {
    await Promise.all([empty, filled].map(stopEtcd));
  }
}

/** An etcd of its own with room for the fleet, stopped once done. */
async function refillPart(docker: Docker, fleet: Fleet): Promise<RefillResult> {
  say('refill part: starting an etcd for the fleet...');
  const etcd = await startEtcd({ quotaBytes: FLEET_QUOTA_BYTES });
  try {
    return await refillScenario({ docker, fleet, etcd, say }, REFILL_SPEC!);
  } finally {
    await stopEtcd(etcd);
  }
}

/** Startup sync at every size; at the largest, the last round's daemon stays for the writes and latency runs. */
async function startupPart(ctx: BenchContext, results: BenchResults): Promise<void> {
  const { fleet } = ctx;
  for (const size of SIZES) {
    say(`starting containers up to ${size}...`);
    await fleet.growTo(size);
    for (const [index, config] of SELECTED.entries()) {
      const result = results.configurations[index];
      const entry: Partial<SizeResult> & { rounds: SizeResult['rounds'] } = { containers: size, rounds: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const last = size === SIZES[SIZES.length - 1] && round === ROUNDS - 1;
        const { round: figures, memory, daemon } = await startupRound(ctx, config, last);
        entry.rounds.push(figures);
        entry.memory = memory;
        say(
          `  ${config.name} x${size} round ${round + 1}: reference ${figures.referenceMs.toFixed(0)} ms, daemon ${figures.daemonMs.toFixed(0)} ms, RSS ${memory.rssMiB.toFixed(1)} MiB`,
        );
        if (!daemon) continue;
        try {
          result.writes = await writesScenario(ctx, config, daemon);
          say(`  ${config.name}: etcd writes measured`);
          result.latency = await latencyScenario(ctx, config, SAMPLES);
          say(`  ${config.name}: ${result.latency.daemonMs.length} latency samples taken`);
          for (const miss of result.latency.missed) say(`    missed ${miss}`);
        } finally {
          await daemon.stop();
          await fleet.remove(`${fleet.prefix}l`);
          await fleet.remove(`${fleet.prefix}w`);
        }
      }
      result.sizes.push(entry as SizeResult);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
