import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { dockerCli } from './docker';

const exec = promisify(execFile);

/** An etcd image made from the host's /usr/bin/etcd and the libraries `ldd` lists (no registry serves images here). */
export const ETCD_IMAGE = 'test/etcd:1';

/** Builds ETCD_IMAGE once per engine; later calls reuse the tag. */
export async function ensureEtcdImage(): Promise<string> {
  if (await dockerCli(['images', '-q', ETCD_IMAGE])) return ETCD_IMAGE;
  const work = mkdtempSync(join(tmpdir(), 'sr-etcd-image-'));
  try {
    const root = join(work, 'rootfs');
    const put = (path: string) => {
      mkdirSync(join(root, dirname(path)), { recursive: true });
      copyFileSync(path, join(root, path));
      chmodSync(join(root, path), 0o755);
    };
    put('/usr/bin/etcd');
    const { stdout: ldd } = await exec('ldd', ['/usr/bin/etcd']);
    for (const match of ldd.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)) put(match[1]);
    mkdirSync(join(root, 'tmp'), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    const tarball = join(work, 'rootfs.tar');
    await exec('tar', ['-C', root, '-cf', tarball, '.']);
    await dockerCli(['import', '-c', 'ENTRYPOINT ["/usr/bin/etcd"]', tarball, ETCD_IMAGE]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return ETCD_IMAGE;
}

/** `etcd` arguments for one member in a container: clients on every address at 2379, data in /tmp. */
export const ETCD_IN_CONTAINER_ARGS = [
  '--name',
  't',
  '--data-dir',
  '/tmp/etcd',
  '--listen-client-urls',
  'http://0.0.0.0:2379',
  '--advertise-client-urls',
  'http://127.0.0.1:2379',
  '--listen-peer-urls',
  'http://127.0.0.1:2380',
  '--initial-advertise-peer-urls',
  'http://127.0.0.1:2380',
  '--initial-cluster',
  't=http://127.0.0.1:2380',
];
