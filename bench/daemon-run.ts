import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, LogLine } from '../test/support/daemon';
import { waitFor } from '../test/support/wait';
import { residentMemory } from './measure';
import { HOST } from './shape';

export interface MemoryFigures {
  /** Resident set size after the sync, before any forced collection. */
  rssMiB: number;
  /** Peak resident set size since the daemon started (VmHWM). */
  peakRssMiB: number;
  /** V8 heap in use after a full garbage collection. */
  heapUsedMiB: number;
  heapTotalMiB: number;
  /** Memory of C++ objects bound to JS (buffers included). */
  externalMiB: number;
}

const MiB = 1024 * 1024;

/**
 * The built daemon as a child process (the CLI, as an operator runs it), with the benchmark's
 * memory probe preloaded and, when asked, V8's CPU profiler writing to `cpuProfileDir` at exit.
 */
export class BenchDaemon {
  readonly process: DaemonProcess;
  /** Wall time just before the spawn. */
  readonly spawnedAt: number;
  private readonly probeDir: string;

  constructor(etcdEndpoint: string, args: string[], cpuProfileDir?: string) {
    this.probeDir = mkdtempSync(join(tmpdir(), 'sr-bench-probe-'));
    const nodeOptions = ['--expose-gc', `--require=${join(__dirname, 'memory-probe.js')}`];
    if (cpuProfileDir) nodeOptions.push('--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`);
    this.spawnedAt = Date.now();
    this.process = new DaemonProcess(args, {
      EC_REGISTRATOR_ETCD_HOSTS: etcdEndpoint,
      EC_REGISTRATOR_HOST: HOST,
      NODE_OPTIONS: nodeOptions.join(' '),
      BENCH_PROBE_DIR: this.probeDir,
    });
  }

  private line(message: string, match: (l: LogLine) => boolean = () => true): LogLine | undefined {
    return this.process.lines.find((l) => l.message === message && match(l));
  }

  /** Spawn to the `starting` log line: Node's own start and loading the daemon's modules and configuration. */
  async nodeStartMs(): Promise<number> {
    await this.process.waitForLog('starting');
    return Date.parse(String(this.line('starting')!.timestamp)) - this.spawnedAt;
  }

  /** The duration the daemon reports for its first reconciliation (`reconciled` log line). */
  async firstReconcileMs(timeoutMs: number): Promise<number> {
    await this.process.waitForLog('reconciled', 1, timeoutMs);
    return Number(this.line('reconciled')!.ms);
  }

  /** Sends SIGHUP and waits for the reconciliation it causes. */
  async sighup(timeoutMs: number): Promise<void> {
    const isHup = (l: LogLine) => l.reason === 'SIGHUP';
    const before = this.process.count('reconciled', isHup);
    this.process.signal('SIGHUP');
    await this.process.waitForLog('reconciled', before + 1, timeoutMs, isHup);
  }

  /** RSS as it is, then the heap after a forced collection (through the preloaded probe). */
  async memory(): Promise<MemoryFigures> {
    const resident = residentMemory(this.process.pid);
    const out = join(this.probeDir, 'memory.json');
    rmSync(out, { force: true });
    writeFileSync(join(this.probeDir, 'request'), '');
    await waitFor('the memory probe', () => existsSync(out), 10_000, 20);
    const usage = JSON.parse(readFileSync(out, 'utf8')) as NodeJS.MemoryUsage;
    return { ...resident, heapUsedMiB: usage.heapUsed / MiB, heapTotalMiB: usage.heapTotal / MiB, externalMiB: usage.external / MiB };
  }

  /** SIGINT (data kept, profile written), then a kill if it lingers. */
  async stop(): Promise<void> {
    this.process.signal('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.process.exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    await this.process.kill();
    rmSync(this.probeDir, { recursive: true, force: true });
  }
}
