import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports';
import { waitFor } from './wait';

/** One series of an instant query's answer: its labels (with `__name__`) and its value. */
export interface QuerySample {
  labels: Record<string, string>;
  value: number;
}

/** An alert as `/api/v1/alerts` gives it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

/** A rule as `/api/v1/rules` gives it (the fields tests read). */
export interface LoadedRule {
  name: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
}

/** A scrape target as `/api/v1/targets` gives it (the fields tests read). */
export interface ScrapeTarget {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface PrometheusOptions {
  /** Scrape jobs: job name -> `host:port` targets, each scraped every second. */
  jobs: Record<string, string[]>;
  /** Rule files (absolute paths), evaluated every second. */
  ruleFiles?: string[];
}

/**
 * A real Prometheus (Debian's `prometheus`, 2.42) on a free 127.0.0.1 port, with a configuration and
 * storage of its own, for one test file. Its first scrape comes up to about 5 s after it starts (its
 * scrape manager applies new targets every 5 s).
 */
export class PrometheusServer {
  readonly url: string;
  /** The tail of its log (stderr), for failure messages. */
  private log = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly proc: ChildProcess,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    proc.stderr!.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'sr-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: Object.entries(options.jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
    };
    // JSON is YAML.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePorts(1);
    const proc = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new PrometheusServer(port, dir, proc);
    let exitCode: number | null | undefined;
    void server.exited.then((code) => (exitCode = code));
    await waitFor(
      'Prometheus to be ready',
      async () => {
        if (exitCode !== undefined) throw new Error(`prometheus exited (status ${exitCode}): ${server.log}`);
        return (await fetch(`${server.url}/-/ready`)).status === 200;
      },
      20_000,
      100,
    );
    return server;
  }

  /** An instant query's answer (`GET /api/v1/query`): one sample per series. */
  async query(expr: string): Promise<QuerySample[]> {
    const data = await this.api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not a vector`);
    return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  /** Waits until the query's answer passes `check`; returns that answer. On timeout, says what it last was. */
  async waitForQuery(expr: string, check: (samples: QuerySample[]) => boolean, timeoutMs = 30_000): Promise<QuerySample[]> {
    let last: QuerySample[] | undefined;
    try {
      const found = await waitFor(
        `Prometheus: ${expr}`,
        async () => {
          last = await this.query(expr);
          return check(last) ? last : undefined;
        },
        timeoutMs,
        200,
      );
      return found!;
    } catch (err) {
      throw new Error(`${(err as Error).message}; last answer ${JSON.stringify(last)}`);
    }
  }

  /** The alerts pending or firing (`GET /api/v1/alerts`). */
  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
  }

  /** The rule groups loaded, by name, with their rules (`GET /api/v1/rules`). */
  async rules(): Promise<Record<string, LoadedRule[]>> {
    const data = await this.api<{ groups: { name: string; rules: LoadedRule[] }[] }>('/api/v1/rules');
    return Object.fromEntries(data.groups.map((g) => [g.name, g.rules]));
  }

  /** The active scrape targets (`GET /api/v1/targets`). */
  async targets(): Promise<ScrapeTarget[]> {
    return (await this.api<{ activeTargets: ScrapeTarget[] }>('/api/v1/targets')).activeTargets;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (res.status !== 200 || body.status !== 'success') throw new Error(`${path}: ${res.status} ${body.error ?? ''}`);
    return body.data;
  }
}
