/**
 * Where the daemon's start goes (docs/performance.md, "The daemon's start"): the built CLI as a whole
 * process, from spawn to its `starting` log line (Node's start, loading the modules, reading the
 * configuration, building the writers), against `node -e 0`, alternated; then one start with a V8 CPU
 * profile and one with every module load timed (bench/module-loads.ts), both summarised.
 *
 *   node dist/bench/startup.js [rounds]        (default 11; STARTUP_PROFILE_DIR keeps the profiles,
 *                                              STARTUP_CLI=<file> starts another build)
 *
 * No engine and no etcd are needed: the daemon is pointed at a Docker socket and an etcd that are not
 * there, and stopped as soon as it says `starting`, which it does before it connects to either.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI as BUILT_CLI, nodeFlagsOf } from '../test/support/daemon';
import { CONFIGURATIONS } from './configurations';
import { median, processCpuMs } from './measure';
import { summariseProfile } from './profile-summary';

const ROUNDS = Number(process.argv[2] ?? 11);
/** The command to start: the one the tests and the bench run, or another build of it. */
const CLI = process.env.STARTUP_CLI ?? BUILT_CLI;
const say = (line: string) => process.stdout.write(`${line}\n`);

function daemonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    EC_REGISTRATOR_HOST: 'startup-host',
    EC_REGISTRATOR_ETCD_HOSTS: '127.0.0.1:1',
    EC_REGISTRATOR_LOG_FORMAT: 'json',
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    ...extra,
  };
}

interface Timing {
  /** Wall milliseconds. */
  ms: number;
  /** CPU milliseconds of the process (user + system; 10 ms ticks for the daemon). */
  cpuMs: number;
}

/** Spawns the daemon and resolves with the wall and CPU time to its `starting` line, then stops it (SIGINT) and waits for its exit. */
function startOnce(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let ms: number | undefined;
    let cpuMs = 0;
    let out = '';
    let err = '';
    const child = spawn(process.execPath, [...nodeFlagsOf(CLI), CLI, ...args], { env: daemonEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (ms === undefined && out.includes('"message":"starting"')) {
        ms = Number(process.hrtime.bigint() - started) / 1e6;
        cpuMs = processCpuMs(child.pid!);
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      if (ms === undefined) reject(new Error(`the daemon exited before it said starting: ${err.trim() || out.trim()}`));
      else resolve({ ms, cpuMs });
    });
  });
}

/** `node -e 0`, with the CPU time it reports at its end. */
function nodeOnce(): Timing {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['-e', 'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000))']);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: Number(run.stdout.toString()) };
}

function ratioLine(what: string, daemon: readonly Timing[], node: readonly Timing[]): string {
  const figure = (key: keyof Timing) => {
    const d = median(daemon.map((t) => t[key]));
    const n = median(node.map((t) => t[key]));
    return `${d.toFixed(0)} ms vs ${n.toFixed(0)} ms (${(d / n).toFixed(2)}x)`;
  };
  return `${what}: spawn to 'starting' against node -e 0: wall ${figure('ms')}, CPU ${figure('cpuMs')}`;
}

async function main(): Promise<void> {
  const keep = process.env.STARTUP_PROFILE_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'sr-startup-'));
  say(`Node ${process.version}, ${CLI}, ${ROUNDS} rounds (medians)`);
  for (const configuration of CONFIGURATIONS) {
    // One unmeasured start fills Node's compile cache, as any start after the first finds it.
    await startOnce(configuration.args);
    const node: Timing[] = [];
    const daemon: Timing[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      node.push(nodeOnce());
      daemon.push(await startOnce(configuration.args));
    }
    say(`\n${ratioLine(configuration.name, daemon, node)}`);
    const profileDir = join(dir, configuration.name);
    await startOnce(configuration.args, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` });
    const [profile] = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    say(summariseProfile(readFileSync(join(profileDir, profile), 'utf8'), 12));
    const loadsFile = join(dir, `${configuration.name}-module-loads.json`);
    await startOnce(configuration.args, { NODE_OPTIONS: `--require ${join(__dirname, 'module-loads.js')}`, SR_MODULE_LOADS: loadsFile });
    const loads = JSON.parse(readFileSync(loadsFile, 'utf8')) as Array<{
      owner: string;
      files: number;
      inclusiveMs: number;
      exclusiveMs: number;
    }>;
    say('\nmodule loads (ms: inclusive = the package and what it requires, exclusive = its own files)');
    for (const row of loads.sort((a, b) => b.exclusiveMs - a.exclusiveMs).slice(0, 15))
      say(
        `${row.inclusiveMs.toFixed(1).padStart(8)} ${row.exclusiveMs.toFixed(1).padStart(8)}  ${String(row.files).padStart(4)} files  ${row.owner}`,
      );
  }
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
