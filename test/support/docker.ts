import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const exec = promisify(execFile);

/** The image every integration test uses: Debian's static busybox, imported locally (never pulled). */
export const TEST_IMAGE = 'test/busybox:1';

export function dockerCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return exec('docker', args, { env, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout.trim());
}

/** Builds TEST_IMAGE from /bin/busybox when the engine does not have it yet. */
export async function ensureTestImage(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const have = await dockerCli(['images', '-q', TEST_IMAGE], env);
  if (have) return;
  const dir = mkdtempSync(join(tmpdir(), 'sr-rootfs-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
    for (const cmd of ['sh', 'sleep', 'httpd', 'true', 'false', 'test', 'wget', 'cat', 'touch', 'rm'])
      symlinkSync('busybox', join(dir, 'bin', cmd));
    await exec('sh', ['-c', `tar -C '${dir}' -c . | docker import -c 'CMD ["/bin/sh"]' - ${TEST_IMAGE}`], { env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Containers made by one test file carry `sr.test=<tag>` so the file can remove exactly its own.
 * `run` takes `docker run` arguments after `-d`.
 */
export class TestContainers {
  readonly label: string;

  constructor(
    readonly tag: string,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.label = `sr.test=${tag}`;
  }

  async run(args: string[]): Promise<string> {
    return dockerCli(['run', '-d', '--label', this.label, ...args], this.env);
  }

  async inspect(id: string): Promise<Docker.ContainerInspectInfo> {
    return JSON.parse(await dockerCli(['inspect', id], this.env))[0];
  }

  async removeAll(): Promise<void> {
    const ids = (await dockerCli(['ps', '-aq', '--filter', `label=${this.label}`], this.env)).split('\n').filter(Boolean);
    if (ids.length) await dockerCli(['rm', '-f', ...ids], this.env).catch(() => undefined);
  }
}
