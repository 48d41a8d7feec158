import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { combination, Combination, configFiles, ODD_VALUES, prng } from '../support/config-fuzz';
import { CLI } from '../support/daemon';

const exec = promisify(execFile);
const SEED = Number(process.env.FUZZ_SEED ?? 424242);
const RUNS = 40;
/**
 * A daemon that logged `starting` (its signal handlers are in place) has started: 300 ms later it
 * gets SIGINT, which must end it with status 0. One that logs below info never says so; it gets
 * SIGINT after STARTED_AFTER_MS, long enough for a loaded machine to have started it.
 */
const STARTED_AFTER_MS = 12_000;
/** Nothing listens there: Docker is never reached, whatever the combination says. */
const NO_DOCKER = 'unix:///nonexistent/sr-fuzz/docker.sock';
/**
 * Every run happens in a network namespace of its own with only loopback up: etcd, Consul and
 * DNS lookups of odd host names go nowhere, and netfilter:// works on the namespace's own tables.
 */
const NS = `srfz${process.pid}`;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  interrupted: boolean;
}

/** Runs the CLI once; a daemon that started (and retries Docker and etcd, which it never reaches) is sent SIGINT. */
function runCli(c: Combination): Promise<Outcome> {
  return new Promise((resolve) => {
    const proc = spawn('ip', ['netns', 'exec', NS, process.execPath, CLI, ...c.argv], {
      env: { PATH: process.env.PATH, DOCKER_HOST: NO_DOCKER, ...c.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    let interrupt: NodeJS.Timeout | undefined;
    const interruptIn = (ms: number): void => {
      clearTimeout(interrupt);
      interrupt = setTimeout(() => {
        interrupted = true;
        proc.kill('SIGINT');
      }, ms);
    };
    interruptIn(STARTED_AFTER_MS);
    proc.stdout.on('data', (d: Buffer) => {
      const waiting = !/\bstarting\b/.test(stdout);
      stdout += d.toString();
      if (waiting && /\bstarting\b/.test(stdout)) interruptIn(300);
    });
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => proc.kill('SIGKILL'), STARTED_AFTER_MS + 10_000);
    proc.on('exit', (code, signal) => {
      clearTimeout(interrupt);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, interrupted });
    });
  });
}

/** Never let a combination fall back to the machine's real Docker socket (an empty setting does). */
function keepDockerAway(c: Combination): Combination {
  const env = { ...c.env };
  for (const name of ['DOCKER_HOST', 'EC_REGISTRATOR_DOCKER_SOCKET']) if (name in env && env[name].trim() === '') env[name] = NO_DOCKER;
  const argv = c.argv.map((token, i) => {
    if (/^--?docker-socket=\s*$/.test(token)) return `${token.split('=')[0]}=${NO_DOCKER}`;
    if (i > 0 && /^--?docker-socket$/.test(c.argv[i - 1]) && token.trim() === '') return NO_DOCKER;
    return token;
  });
  return { argv, env };
}

/** Why an outcome breaks the rule, or undefined: exit 0 (help, version, or stopped by SIGINT), 2 with one stderr line, 1 only after `giving up`. */
function violation(o: Outcome): string | undefined {
  if (o.signal !== null) return `killed by ${o.signal}${o.interrupted ? ' (did not stop on SIGINT)' : ''}`;
  if (/unhandled rejection|start failed|uncaught/i.test(o.stdout)) return 'logged an unhandled error';
  if (o.code === 0) return o.interrupted || o.stdout.length > 0 ? undefined : 'exit 0 without output';
  if (o.code === 2) {
    const lines = o.stderr.split('\n').filter((l) => l !== '');
    if (lines.length !== 1 || !lines[0].startsWith('registrator: ')) return `exit 2 with stderr ${JSON.stringify(o.stderr.slice(0, 300))}`;
    return undefined;
  }
  // -retry-attempts N: the documented give-up after N pings of an unreachable registry.
  if (o.code === 1 && o.stdout.includes('"giving up"') && !o.interrupted) return undefined;
  return `exit ${o.code}`;
}

describe(`registrator CLI fuzz, as a process (seed ${SEED}, ${RUNS} combinations)`, () => {
  let values: string[];

  before(async () => {
    await exec('ip', ['netns', 'add', NS]);
    await exec('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    // A NUL cannot be passed to a process; everything else is.
    values = [...ODD_VALUES, ...configFiles()].filter((v) => !v.includes('\0'));
  });

  after(async () => {
    await exec('ip', ['netns', 'delete', NS]).catch(() => undefined);
  });

  it('every combination exits 0 or 2 with one line, or runs until SIGINT stops it with 0', async () => {
    const rng = prng(SEED);
    // Half wholly random (mostly refused), half mostly valid (mostly started).
    const combinations = Array.from({ length: RUNS }, (_, i) => keepDockerAway(combination(rng, values, i % 2 === 0 ? 0 : 0.85)));
    const failures: string[] = [];
    const kinds = { usage: 0, refused: 0, started: 0, other: 0 };
    // Four at a time: most finish at once.
    for (let i = 0; i < combinations.length; i += 4) {
      const batch = combinations.slice(i, i + 4);
      const outcomes = await Promise.all(batch.map(runCli));
      outcomes.forEach((o, j) => {
        const why = violation(o);
        if (why)
          failures.push(
            `combination ${i + j}: ${why}; argv ${JSON.stringify(batch[j].argv).slice(0, 300)} env ${JSON.stringify(batch[j].env).slice(0, 300)}`,
          );
        if (o.interrupted) kinds.started++;
        else if (o.code === 2) kinds.refused++;
        else if (o.code === 0) kinds.usage++;
        else kinds.other++;
      });
    }
    assert.deepEqual(failures, []);
    // The seed reaches both a refusal and a start, so both rules were exercised.
    assert.ok(kinds.refused > 0 && kinds.started > 0, JSON.stringify(kinds));
  });
});
