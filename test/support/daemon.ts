import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './wait';

/** Path of the built CLI (tests run from dist/test/...). */
export const CLI = join(__dirname, '../../src/cli.js');

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

/** The registrator as a real child process, with its JSON log lines collected. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;

  /** `prefix` runs it through another command, e.g. `['ip', 'netns', 'exec', ns]` (which execs in place). */
  constructor(args: string[], env: NodeJS.ProcessEnv, prefix: string[] = []) {
    const argv = [...prefix, process.execPath, CLI, ...args];
    this.proc = spawn(argv[0], argv.slice(1), {
      env: { PATH: process.env.PATH, EC_REGISTRATOR_LOG_FORMAT: 'json', ...env },
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
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Number of log lines with this message so far. */
  count(message: string, match: (l: LogLine) => boolean = () => true): number {
    return this.lines.filter((l) => l.message === message && match(l)).length;
  }

  /** Waits until at least `n` log lines with this message have been written. */
  async waitForLog(message: string, n = 1, timeoutMs = 20_000, match?: (l: LogLine) => boolean): Promise<void> {
    await waitFor(`log "${message}" x${n}`, () => this.count(message, match) >= n, timeoutMs, 50);
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
}
