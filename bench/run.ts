/**
 * The benchmark: the daemon (the built CLI as a child process) against a bare reference loop, on
 * the same real dockerd and etcd in the same run. See docs/performance.md.
 *
 *   npm run bench
 *   BENCH_SIZES=200,500,1000  BENCH_ROUNDS=3  BENCH_LATENCY_SAMPLES=50  BENCH_OUT=bench-results.json
 *   BENCH_CONFIGURATIONS=mirror,mirror+hamesh+etcd  BENCH_CPU_PROF=<dir>  BENCH_DOCKER_SOCKET=/var/run/docker.sock
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import Docker from 'dockerode';
import { ensureTestImage } from '../test/support/docker';
import { EtcdServer } from '../test/support/etcd';
import { CONFIGURATIONS } from './configurations';
import type { BenchContext } from './context';
import { BenchDaemon } from './daemon-run';
import { Fleet } from './fleet';
import { BenchResults, ConfigurationResult, renderTables, SizeResult, writeResults } from './report';
import { latencyScenario } from './scenarios/latency';
import { startupRound } from './scenarios/startup';
import { writesScenario } from './scenarios/writes';

function numbers(name: string, fallback: string): number[] {
  const values = (process.env[name] ?? fallback).split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${name} must be positive whole numbers, comma separated`);
  return values;
}

const SIZES = [...new Set(numbers('BENCH_SIZES', '200,500,1000'))].sort((a, b) => a - b);
const [ROUNDS] = numbers('BENCH_ROUNDS', '3');
const [SAMPLES] = numbers('BENCH_LATENCY_SAMPLES', '50');
const OUT = process.env.BENCH_OUT ?? 'bench-results.json';
const WANTED = (process.env.BENCH_CONFIGURATIONS ?? CONFIGURATIONS.map((c) => c.name).join(',')).split(',');
const SELECTED = CONFIGURATIONS.filter((c) => WANTED.includes(c.name));

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  if (SELECTED.length === 0) throw new Error(`BENCH_CONFIGURATIONS names none of ${CONFIGURATIONS.map((c) => c.name).join(', ')}`);
  await ensureTestImage();
  const docker = new Docker({ socketPath: process.env.BENCH_DOCKER_SOCKET ?? '/var/run/docker.sock' });
  const etcd = await EtcdServer.start();
  const fleet = new Fleet(docker, String(process.pid));
  const ctx: BenchContext = { docker, etcd, fleet, cpuProfileDir: process.env.BENCH_CPU_PROF };
  let cleaning: Promise<void> | undefined;
  // Once only, whether the run ends, fails or is interrupted.
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await Promise.all([...BenchDaemon.running].map((d) => d.stop().catch(() => undefined)));
      await fleet.remove().catch((err) => say(`could not remove every container: ${err}`));
      await etcd.stop();
    })());
  // An interrupted run still removes its containers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.versions.node,
      docker: (await docker.version()).Version,
      etcd: execFileSync('etcd', ['--version']).toString().split('\n')[0].replace(/^etcd Version:\s*/, ''),
    },
    settings: { sizes: SIZES, rounds: ROUNDS, latencySamples: SAMPLES },
    configurations: SELECTED.map((c): ConfigurationResult => ({ name: c.name, args: c.args, sizes: [] })),
  };
  try {
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
          say(`  ${config.name} x${size} round ${round + 1}: reference ${figures.referenceMs.toFixed(0)} ms, daemon ${figures.daemonMs.toFixed(0)} ms, RSS ${memory.rssMiB.toFixed(1)} MiB`);
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
    say('');
    say(renderTables(results));
    writeResults(OUT, results);
    say(`\nwritten to ${OUT}`);
  } finally {
    await cleanUp();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
