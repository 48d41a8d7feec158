import { DaemonProcess, LogLine } from '../test/support/daemon';
import { DaemonProbe } from '../test/support/daemon-probe';
import { nowMs, residentMemory } from './measure';
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
 * probe preloaded: memory on request and, with `cpuProfileDir`, a CPU profile from the start.
 */
export class BenchDaemon {
  /** Every daemon child not yet stopped, so an interrupted run can stop them all. */
  static readonly running = new Set<BenchDaemon>();
  readonly process: DaemonProcess;
  /** Wall time just before the spawn. */
  readonly spawnedAt: number;
  private readonly probe: DaemonProbe;

  constructor(etcdEndpoint: string, args: string[], cpuProfileDir?: string) {
    this.probe = new DaemonProbe(cpuProfileDir);
    this.spawnedAt = Date.now();
    const env: NodeJS.ProcessEnv = { EC_REGISTRATOR_ETCD_HOSTS: etcdEndpoint, EC_REGISTRATOR_HOST: HOST, ...this.probe.env };
    // BENCH_NODE_OPTIONS: Node options for the daemon child only (a V8 flag to compare, say).
    if (process.env.BENCH_NODE_OPTIONS) env.NODE_OPTIONS = `${env.NODE_OPTIONS} ${process.env.BENCH_NODE_OPTIONS}`;
    this.process = new DaemonProcess(args, env);
    BenchDaemon.running.add(this);
  }

  private line(message: string, match: (l: LogLine) => boolean = () => true): LogLine | undefined {
    return this.process.lines.find((l) => l.message === message && match(l));
  }

  /** Wall time (ms) of the daemon's first log line with this message, once it has been written. */
  async loggedAt(message: string, timeoutMs = 20_000): Promise<number> {
    await this.process.waitForLog(message, 1, timeoutMs);
    return Date.parse(String(this.line(message)!.timestamp));
  }

  /** The duration the daemon reports for its first reconciliation (`reconciled` log line). */
  async firstReconcileMs(timeoutMs: number): Promise<number> {
    await this.process.waitForLog('reconciled', 1, timeoutMs);
    return Number(this.line('reconciled')!.ms);
  }

  /**
   * Sends SIGHUP and waits for the reconciliation it causes: its duration as the daemon logs it, the
   * time from the signal to the `reconciled` line's timestamp, and the containers it reconciled.
   */
  async sighup(timeoutMs: number): Promise<{ loggedMs: number; signalToDoneMs: number; containers: number }> {
    const isHup = (l: LogLine) => l.reason === 'SIGHUP';
    const before = this.process.count('reconciled', isHup);
    const sentAt = Date.now();
    this.process.signal('SIGHUP');
    await this.whileRunning(this.process.waitForLog('reconciled', before + 1, timeoutMs, isHup));
    const line = this.process.lines.filter((l) => l.message === 'reconciled' && isHup(l))[before];
    return { loggedMs: Number(line.ms), signalToDoneMs: Date.parse(String(line.timestamp)) - sentAt, containers: Number(line.containers) };
  }

  /** SIGTERM (this host's data deleted) and the time until the process has exited, with its exit status. */
  async terminate(timeoutMs: number): Promise<{ ms: number; code: number | null }> {
    const sentAt = nowMs();
    this.process.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.process.exited,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') throw new Error(`the daemon had not exited ${timeoutMs} ms after SIGTERM`);
    return { ms: nowMs() - sentAt, code };
  }

  /** Rejects if the daemon exits before `work` is done (with what it said on stderr). */
  async whileRunning<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const exited = this.process.exited.then((code): Promise<never> => {
      // Once the work is done, an exit (the bench's own stop) is no failure: never settle.
      if (settled) return new Promise(() => undefined);
      throw new Error(`the daemon exited (${code}) early: ${this.process.stderr.join('').trim()}`);
    });
    try {
      return await Promise.race([work, exited]);
    } finally {
      settled = true;
    }
  }

  /** RSS as it is, then the heap after a forced collection (through the preloaded probe). */
  async memory(): Promise<MemoryFigures> {
    const resident = residentMemory(this.process.pid);
    const usage = await this.whileRunning(this.probe.memory());
    return { ...resident, heapUsedMiB: usage.heapUsed / MiB, heapTotalMiB: usage.heapTotal / MiB, externalMiB: usage.external / MiB };
  }

  /** Ends the CPU profile begun at spawn, writing it to the profile directory. */
  async writeProfile(): Promise<void> {
    await this.whileRunning(this.probe.writeProfile());
  }

  /** SIGINT (data kept, profile written), then a kill if it lingers. */
  async stop(): Promise<void> {
    this.process.signal('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.process.exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    await this.process.kill();
    this.probe.remove();
    BenchDaemon.running.delete(this);
  }
}
