import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthBody } from '../../src/http/health';
import type { WriterState } from '../../src/observer';
import { parseMetrics, sumOf } from './metrics';
import { freePortSync } from './ports';
import { sleep, waitFor } from './wait';

/** Path of the built CLI, the bundle `npm run build` makes (tests run from dist/test/...). */
export const CLI = join(__dirname, '../../bin/registrator.js');

/** The Node flags a command's first line gives (`#!/usr/bin/env -S node <flags>`), so a test runs it with them on this Node. */
export function nodeFlagsOf(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0];
  const flags = /^#!\S*env -S node((?: --\S+)*)$/.exec(first);
  return flags ? flags[1].split(' ').filter((f) => f !== '') : [];
}

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface DaemonOptions {
  /**
   * Runs it through another command, e.g. `['ip', 'netns', 'exec', ns]` (which execs in place).
   * Such a daemon gets no HTTP listener from here: the test's 127.0.0.1 is not the one inside a
   * network namespace, so its state cannot be read and its tests wait on the log.
   */
  prefix?: string[];
  /** false leaves the HTTP listener off, as the product's default is (tests of that default). */
  http?: boolean;
}

/** The /healthz answer: its status code and body. */
export interface Health {
  code: number;
  body: HealthBody;
}

/** A state wait made no sense any more: the daemon exited meanwhile. */
export class DaemonExitedError extends Error {
  constructor(what: string, code: number | null) {
    super(`the daemon exited (status ${code}) while waiting for ${what}`);
    this.name = 'DaemonExitedError';
  }
}

/**
 * The registrator as a real child process, with its JSON log lines collected. Unless the test
 * sets the HTTP listener itself, it serves /healthz and /metrics on a free 127.0.0.1 port, so a
 * test can wait on the daemon's state (health(), metric(), waitFor...) rather than on log text.
 */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  /** The port of its HTTP listener on 127.0.0.1; undefined when it has none. */
  readonly httpPort: number | undefined;
  private readonly proc: ChildProcess;
  private exitCode: number | null | undefined;

  constructor(args: string[], env: NodeJS.ProcessEnv, options: DaemonOptions = {}) {
    const prefix = options.prefix ?? [];
    const http: NodeJS.ProcessEnv = {};
    if (env.EC_REGISTRATOR_HTTP_PORT !== undefined) {
      this.httpPort = Number(env.EC_REGISTRATOR_HTTP_PORT) || undefined;
    } else if (options.http !== false && prefix.length === 0 && !args.includes('-http-port')) {
      this.httpPort = freePortSync();
      http.EC_REGISTRATOR_HTTP_PORT = String(this.httpPort);
      http.EC_REGISTRATOR_HTTP_ADDRESS = '127.0.0.1';
    }
    const argv = [...prefix, process.execPath, ...nodeFlagsOf(CLI), CLI, ...args];
    this.proc = spawn(argv[0], argv.slice(1), {
      env: { PATH: process.env.PATH, EC_REGISTRATOR_LOG_FORMAT: 'json', ...http, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ level: 'raw', message: line });
        }
      }
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => (this.exitCode = code));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Whether it has not exited yet. */
  get running(): boolean {
    return this.exitCode === undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Number of log lines with this message so far. */
  count(message: string, match: (l: LogLine) => boolean = () => true): number {
    return this.lines.filter((l) => l.message === message && match(l)).length;
  }

  /**
   * Waits until at least `n` log lines with this message have been written. For what the log
   * alone tells (a warning an operator reads, an event the state does not count); prefer the state waits.
   */
  async waitForLog(message: string, n = 1, timeoutMs = 20_000, match?: (l: LogLine) => boolean): Promise<void> {
    await waitFor(`log "${message}" x${n}`, () => this.count(message, match) >= n, timeoutMs, 50);
  }

  /** GET /healthz. */
  async health(): Promise<Health> {
    const res = await fetch(this.url('/healthz'));
    return { code: res.status, body: (await res.json()) as HealthBody };
  }

  /** The sum of the /metrics series called `name` that carry every label of `labels` (0 when there is none). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const res = await fetch(this.url('/metrics'));
    return sumOf(parseMetrics(await res.text()), name, labels);
  }

  /** Full reconciliations finished so far with this outcome. */
  reconciliations(outcome: 'success' | 'failure' = 'success'): Promise<number> {
    return this.metric('registrator_reconciliations_total', { outcome });
  }

  /** Waits until `metric(name, labels)` is at least `n`; returns its value then. */
  async waitForMetric(name: string, labels: Record<string, string>, n: number, timeoutMs = 20_000): Promise<number> {
    const what = `${name}${JSON.stringify(labels)} >= ${n}`;
    let last: number | undefined;
    return this.poll(
      what,
      async () => {
        last = await this.metric(name, labels);
        return last >= n ? last : undefined;
      },
      timeoutMs,
      () => `last value ${last}`,
    );
  }

  /** Waits until at least `n` full reconciliations finished with this outcome (since start). */
  waitForReconciliations(n: number, outcome: 'success' | 'failure' = 'success', timeoutMs = 20_000): Promise<number> {
    return this.waitForMetric('registrator_reconciliations_total', { outcome }, n, timeoutMs);
  }

  /** Waits until /healthz reports this writer (`writer.mirror`, `writer.hamesh`, ...) in this state. */
  async waitForWriterState(writer: string, state: WriterState, timeoutMs = 20_000): Promise<void> {
    let last: HealthBody | undefined;
    await this.poll(
      `${writer} ${state}`,
      async () => {
        last = (await this.health()).body;
        return last.writers[writer] === state || undefined;
      },
      timeoutMs,
      () => `last /healthz ${JSON.stringify(last)}`,
    );
  }

  /** Waits until /healthz reports the Docker event stream subscribed (`connected`) or not (`disconnected`). */
  async waitForDocker(state: HealthBody['docker'], timeoutMs = 20_000): Promise<void> {
    let last: HealthBody | undefined;
    await this.poll(
      `Docker ${state}`,
      async () => {
        last = (await this.health()).body;
        return last.docker === state || undefined;
      },
      timeoutMs,
      () => `last /healthz ${JSON.stringify(last)}`,
    );
  }

  /** Waits until /healthz answers 200: first reconciliation done, Docker subscribed, every writer in step. */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    let last: Health | undefined;
    await this.poll(
      '/healthz 200',
      async () => {
        last = await this.health();
        return last.code === 200 || undefined;
      },
      timeoutMs,
      () => `last /healthz ${JSON.stringify(last)}`,
    );
  }

  /**
   * Sends SIGHUP or SIGUSR2 and waits until the reconciliation it runs has succeeded. Send it with
   * the daemon at rest: one already under way would finish first and be counted in its place.
   */
  async reconcileOn(sig: 'SIGHUP' | 'SIGUSR2', timeoutMs = 20_000): Promise<void> {
    const done = await this.reconciliations();
    this.signal(sig);
    await this.waitForReconciliations(done + 1, 'success', timeoutMs);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** Stops it hard if still running (test teardown). */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  private url(path: string): string {
    if (this.httpPort === undefined) throw new Error('this daemon has no HTTP listener (see DaemonOptions)');
    return `http://127.0.0.1:${this.httpPort}${path}`;
  }

  /**
   * Polls `check` (a request that fails, e.g. before the listener is up, counts as not yet) until it
   * returns a value; fails at once when the daemon exits, and on timeout says what was seen last.
   */
  private async poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, seen: () => string): Promise<T> {
    this.url('/');
    const deadline = Date.now() + timeoutMs;
    let failure = '';
    for (;;) {
      if (this.exitCode !== undefined) throw new DaemonExitedError(what, this.exitCode);
      try {
        const value = await check();
        if (value !== undefined) return value;
        failure = '';
      } catch (err) {
        failure = `; last request: ${(err as Error).message}`;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${seen()}${failure}`);
      await sleep(50);
    }
  }
}
