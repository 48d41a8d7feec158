import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { dockerCli } from './docker';

const exec = promisify(execFile);

/** The project root (tests run from dist/test/support). */
export const PROJECT_ROOT = join(__dirname, '../../..');

/** The registrator image the integration tests build from the project's Dockerfile. */
export const APP_IMAGE = 'test/service-registrator:dev';

/** Named after the host's Node version, so a Node upgrade on the host makes a fresh base image. */
export const NODE_IMAGE = `test/node:${process.versions.node}`;

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

let nodeImage: Promise<string> | undefined;
let appImage: Promise<string> | undefined;

/**
 * A Node base image made from this host's node, npm and CA bundle, with busybox for /bin/sh.
 * No registry serves images here, so the Dockerfile's base is imported from a local rootfs.
 * Built once per engine; later calls reuse the tag.
 */
export function ensureNodeImage(): Promise<string> {
  nodeImage ??= buildNodeImage().catch((err) => {
    nodeImage = undefined;
    throw err;
  });
  return nodeImage;
}

/**
 * Builds the project's Dockerfile on top of ensureNodeImage(). Rebuilt on every call so the image
 * holds the current sources; Docker's layer cache keeps that to a few seconds when nothing changed.
 */
export function buildAppImage(): Promise<string> {
  appImage ??= (async () => {
    const base = await ensureNodeImage();
    const previous = await imageId(APP_IMAGE);
    const args = ['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${base}`, '-t', APP_IMAGE];
    const registry = await npmRegistry();
    if (registry) args.push('--build-arg', `NPM_CONFIG_REGISTRY=${registry}`);
    try {
      await dockerCli([...args, PROJECT_ROOT]);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`docker build failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    // The image a rebuild replaced is left untagged; drop it so repeated runs do not pile up images.
    if (previous && previous !== (await imageId(APP_IMAGE))) await dockerCli(['rmi', previous]).catch(() => undefined);
    return APP_IMAGE;
  })().catch((err) => {
    appImage = undefined;
    throw err;
  });
  return appImage;
}

async function imageId(tag: string): Promise<string> {
  return dockerCli(['images', '-q', '--no-trunc', tag]);
}

/** The registry this host's npm uses, handed to the image build so it installs from the same place. */
async function npmRegistry(): Promise<string> {
  try {
    const { stdout } = await exec('npm', ['config', 'get', 'registry']);
    return stdout.trim();
  } catch {
    return '';
  }
}

async function buildNodeImage(): Promise<string> {
  if (await imageId(NODE_IMAGE)) return NODE_IMAGE;
  const work = mkdtempSync(join(tmpdir(), 'sr-node-image-'));
  try {
    const root = join(work, 'rootfs');
    await assembleNodeRootfs(root);
    const tarball = join(work, 'rootfs.tar');
    await exec('tar', ['-C', root, '-cf', tarball, '.']);
    const changes = [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      // Node carries its own CA list; trusting the system bundle too lets npm reach the registry as the host does.
      `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
      'CMD ["node"]',
    ];
    await dockerCli(['import', ...changes.flatMap((c) => ['-c', c]), tarball, NODE_IMAGE]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return NODE_IMAGE;
}

/** Lays out node, its shared libraries and loader, npm, busybox and a minimal /etc under `root`. */
async function assembleNodeRootfs(root: string): Promise<void> {
  const put = (hostPath: string, imagePath = hostPath) => {
    const target = join(root, imagePath);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(hostPath, target);
    return target;
  };

  const nodeBinary = realpathSync(process.execPath);
  chmodSync(put(nodeBinary, '/usr/local/bin/node'), 0o755);
  // ldd lists every library node links against, and the dynamic loader by its absolute path.
  const { stdout: ldd } = await exec('ldd', [nodeBinary]);
  for (const match of ldd.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)) chmodSync(put(match[1]), 0o755);

  // npm lives in a node_modules folder beside node's prefix; its bin scripts find it from there.
  const npmCli = realpathSync((await exec('sh', ['-c', 'command -v npm'])).stdout.trim());
  const npmPackage = dirname(dirname(npmCli));
  cpSync(npmPackage, join(root, 'usr/local/lib/node_modules/npm'), {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => !/\/npm\/(docs|man)(\/|$)/.test(src),
  });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));

  // Busybox is static: /bin/sh and the usual tools for RUN steps, with no libraries of its own.
  put('/bin/busybox');
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const { stdout: applets } = await exec('/bin/busybox', ['--list-full']);
  for (const applet of applets.split('\n').filter(Boolean)) {
    const link = join(root, applet);
    if (existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync('/bin/busybox', link);
  }

  put(CA_BUNDLE);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  mkdirSync(join(root, 'root'), { mode: 0o700 });
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
}
