import { ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerCli } from './docker';
import { waitFor } from './wait';

const exec = promisify(execFile);

/**
 * A second, private Docker engine on this machine (own data root, socket, containerd namespace
 * and bridge; no iptables), so a test can restart or kill it without touching the engine other
 * tests use. Containers on it use --network none or host.
 *
 * It gets a bridge of its own rather than `--bridge=none`: with the bridge disabled, dockerd
 * deletes the machine's `docker0` interface at start, breaking the main engine's networking.
 */
export class PrivateDockerd {
  readonly dir: string;
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  private proc?: ChildProcess;

  /** Bridge interface name (at most 15 characters). */
  readonly bridge: string;

  constructor(readonly name: string) {
    this.bridge = `sr${name}`.slice(0, 15);
    this.dir = mkdtempSync(join(tmpdir(), `sr-${name}-`));
    this.socket = join(this.dir, 'docker.sock');
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.socket}` };
  }

  /**
   * Starts (or restarts) the engine; `liveRestore` keeps containers running across restarts;
   * `ipv6Subnet` gives its bridge's containers global IPv6 addresses from that /64 as well.
   */
  async start(liveRestore = true, ipv6Subnet?: string): Promise<void> {
    await this.ensureBridge();
    this.proc = spawn(
      'dockerd',
      [
        '--data-root',
        join(this.dir, 'data'),
        '--exec-root',
        join(this.dir, 'exec'),
        '-H',
        `unix://${this.socket}`,
        '--pidfile',
        join(this.dir, 'docker.pid'),
        '--config-file',
        this.writeConfig(),
        '--bridge',
        this.bridge,
        '--iptables=false',
        '--ip-masq=false',
        '--containerd-namespace',
        this.name,
        '--containerd-plugins-namespace',
        `${this.name}p`,
        ...(liveRestore ? ['--live-restore'] : []),
        ...(ipv6Subnet ? ['--ipv6', '--fixed-cidr-v6', ipv6Subnet, '--ip6tables=false'] : []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      `dockerd ${this.name}`,
      async () => {
        await dockerCli(['info', '--format', '{{.ID}}'], this.env);
        return true;
      },
      60_000,
      250,
    );
  }

  /**
   * Its daemon.json: its own trust key, hence its own engine ID (`GET /info` `ID`), as another
   * machine's engine has. Docker 20.10 derives the ID from /etc/docker/key.json otherwise, which it
   * would share with the machine's engine (the key's path is a daemon.json setting only).
   */
  private writeConfig(): string {
    const file = join(this.dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'deprecated-key-path': join(this.dir, 'key.json') }));
    return file;
  }

  private async ensureBridge(): Promise<void> {
    const have = await exec('ip', ['link', 'show', this.bridge]).then(
      () => true,
      () => false,
    );
    if (have) return;
    await exec('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    // A link-local /24 of its own (per engine name): never routed, never clashes with another engine's.
    const octet = 1 + ([...`${this.name}${process.pid}`].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % 250);
    await exec('ip', ['addr', 'add', `169.254.${octet}.1/24`, 'dev', this.bridge]);
    await exec('ip', ['link', 'set', this.bridge, 'up']);
  }

  /** Stops the engine (SIGTERM); with live-restore its containers keep running. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }

  /** Removes every container, stops the engine and deletes its files. */
  async destroy(): Promise<void> {
    const ids = (await dockerCli(['ps', '-aq'], this.env).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length) await dockerCli(['rm', '-f', ...ids], this.env).catch(() => undefined);
    await this.stop();
    // The engine leaves its data root mounted; detach it before deleting.
    await exec('umount', ['-lR', join(this.dir, 'data')]).catch(() => undefined);
    await exec('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
