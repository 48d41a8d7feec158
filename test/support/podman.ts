import { ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { waitFor } from './wait';

const exec = promisify(execFile);

/** The busybox image for Podman: Debian's static busybox imported with `podman import` (never pulled). */
export const PODMAN_TEST_IMAGE = 'localhost/test/busybox:1';

/** Runs the `podman` command (rootful, on the machine's own storage; no API service needed); resolves with its stdout. */
export function podmanCli(args: string[]): Promise<string> {
  return exec('podman', args, { maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout.trim());
}

/** Imports PODMAN_TEST_IMAGE from /bin/busybox when Podman's storage does not have it yet. */
export async function ensurePodmanTestImage(): Promise<void> {
  if (
    await podmanCli(['image', 'exists', PODMAN_TEST_IMAGE]).then(
      () => true,
      () => false,
    )
  )
    return;
  const dir = mkdtempSync(join(tmpdir(), 'sr-podman-rootfs-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
    for (const cmd of ['sh', 'sleep', 'httpd', 'true', 'false', 'test', 'wget', 'cat', 'touch', 'rm'])
      symlinkSync('busybox', join(dir, 'bin', cmd));
    await exec('sh', ['-c', `tar -C '${dir}' -c . | podman import -c 'CMD ["/bin/sh"]' - ${PODMAN_TEST_IMAGE}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A rootful Podman API service (`podman system service --time=0`) of a test file's own, on its own
 * socket: what the daemon talks to, as it would to /run/podman/podman.sock. It can be stopped and
 * started again on the same socket (the containers keep running: conmon holds them, not the service).
 */
export class PodmanService {
  readonly socketPath: string;
  private proc?: ChildProcess;

  private constructor(private readonly dir: string) {
    this.socketPath = join(dir, 'podman.sock');
  }

  static async start(): Promise<PodmanService> {
    const service = new PodmanService(mkdtempSync(join(tmpdir(), 'sr-podman-')));
    await service.launch();
    return service;
  }

  /** (Re)starts the service on the same socket; resolves once it answers `GET /_ping`. */
  async launch(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.proc = spawn('podman', ['system', 'service', '--time=0', `unix://${this.socketPath}`], { stdio: 'ignore' });
    const client = new Docker({ socketPath: this.socketPath });
    await waitFor('the Podman API service to answer', async () => Boolean(await client.ping()), 30_000, 100);
  }

  /** Stops the service (SIGTERM); resolves once it has exited. Its containers keep running. */
  async halt(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
    this.proc = undefined;
  }

  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
