import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

/**
 * Talks to test/support/probe.ts preloaded into a daemon child: give the child `env`, then ask for
 * its memory after a full collection, or for the CPU profile taken since it started.
 */
export class DaemonProbe {
  readonly dir = mkdtempSync(join(tmpdir(), 'sr-probe-'));

  constructor(private readonly cpuProfileDir?: string) {}

  /** Environment for the daemon child that preloads the probe. */
  get env(): NodeJS.ProcessEnv {
    return {
      NODE_OPTIONS: `--expose-gc --require=${join(__dirname, 'probe.js')}`,
      SR_PROBE_DIR: this.dir,
      ...(this.cpuProfileDir ? { SR_PROBE_CPU_PROF: this.cpuProfileDir } : {}),
    };
  }

  /** process.memoryUsage() of the daemon after a full garbage collection. */
  async memory(): Promise<NodeJS.MemoryUsage> {
    return JSON.parse(await this.ask('memory', 'memory.json')) as NodeJS.MemoryUsage;
  }

  /** Ends the CPU profile begun at spawn, writing it to the profile directory. */
  async writeProfile(): Promise<void> {
    const err = await this.ask('profile', 'profile.done');
    if (err) throw new Error(`CPU profile: ${err}`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Asks the probe for `request` and returns its answer file's content. */
  private async ask(request: string, answer: string): Promise<string> {
    const out = join(this.dir, answer);
    rmSync(out, { force: true });
    writeFileSync(join(this.dir, request), '');
    await waitFor(`the probe's ${answer}`, () => existsSync(out), 30_000, 20);
    return readFileSync(out, 'utf8');
  }
}
