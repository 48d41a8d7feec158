import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { request } from 'node:http';
import { DaemonProcess, LogLine } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { waitFor } from '../support/wait';

const HOST = `hostile-${process.pid}`;
const RUN = `hi${process.pid}`;

/** One Engine API call on the local socket; rejects on a status of 300 or more. */
function engine(method: string, path: string, body?: unknown): Promise<string> {
  const data = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: '/var/run/docker.sock',
        method,
        path,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          (res.statusCode ?? 500) < 300 ? resolve(text) : reject(new Error(`${method} ${path.slice(0, 80)}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('hostile and odd container input, against real dockerd and etcd', () => {
  let etcd: EtcdServer;
  let daemon: DaemonProcess;
  const containers = new TestContainers(`hostile-${process.pid}`);
  const files = mkdtempSync(join(tmpdir(), 'sr-hostile-'));
  let tooLarge: string;

  /**
   * Creates and starts a container through the Engine API, for what the CLI cannot pass (a name
   * over 128 KiB, an empty label name, exposures that are not ports). Plain HTTP: dockerode also
   * puts the create options in the query string, which Docker refuses past 1 MiB (431).
   */
  async function apiRun(options: Record<string, unknown> & { name: string; Labels?: Record<string, string> }): Promise<string> {
    const { name, ...config } = options;
    const [key, value] = containers.label.split('=');
    const body = { Image: TEST_IMAGE, Cmd: ['sleep', '1000'], ...config, Labels: { ...options.Labels, [key]: value } };
    const created = await engine('POST', `/containers/create?name=${encodeURIComponent(name)}`, body);
    const id = (JSON.parse(created) as { Id: string }).Id;
    await engine('POST', `/containers/${id}/start`);
    return id;
  }

  function labelFile(name: string, lines: string[]): string {
    const path = join(files, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  }

  /** Waits until etcd holds exactly the entry docs/mirror.md, "Key layout" gives for the container (as Docker shows it, `adjust`ed). */
  async function assertMirrored(
    id: string,
    adjust: (c: Docker.ContainerInspectInfo) => void = () => undefined,
  ): Promise<Record<string, string>> {
    let expected: Record<string, string> = {};
    await waitFor(
      `mirror of ${id.slice(0, 12)}`,
      async () => {
        const inspected = await containers.inspect(id);
        adjust(inspected);
        expected = sorted(expectedMirror(inspected, HOST));
        return JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected);
      },
      30_000,
    ).catch(async (err) => {
      const held = sorted(await heldFor(etcd, id));
      assert.deepEqual(Object.keys(held), Object.keys(expected), String(err));
      assert.deepEqual(held, expected, String(err));
    });
    return expected;
  }

  /** The daemon said `message` about this container id; returns the reasons (the warnings an operator reads are the behaviour here). */
  async function warnedAbout(message: string, id: string, match: (l: LogLine) => boolean = () => true): Promise<string[]> {
    await daemon.waitForLog(message, 1, 30_000, (l) => l.id === id && match(l));
    return daemon.lines.filter((l) => l.message === message && l.id === id).map((l) => String(l.reason));
  }

  /** `service skipped` lines of the hamesh writer that name this container. */
  function serviceWarnings(name: string, id: string): string[] {
    return daemon.lines
      .filter((l) => l.message === 'service skipped' && String(l.reason).startsWith(`container ${name} (${id.slice(0, 12)}): `))
      .map((l) => String(l.reason));
  }

  before(async () => {
    await ensureTestImage();
    etcd = await EtcdServer.start();
    // Six 200 KB labels are 2.4 MB of keys and values: more than one etcd request carries.
    const big = 'v'.repeat(200 * 1024);
    // (Through the API: the CLI's --label-file reads lines of at most 64 KiB.)
    tooLarge = await apiRun({
      name: `${RUN}-too-large`,
      Labels: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`big${i}`, big])),
    });
    // A fragment of it left behind (by a crash of an older version): it must go.
    await etcd.client.put(`/registry/containers/${tooLarge}/host`).value(HOST);
    await etcd.client.put(`/registry/containers/${tooLarge}/name`).value(`${RUN}-too-large`);
    await etcd.client.put(`/registry/hosts/${HOST}/${RUN}-too-large`).value(tooLarge);
    daemon = new DaemonProcess(['-ip', '127.0.0.1', 'hamesh:///svc'], {
      EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
      EC_REGISTRATOR_HOST: HOST,
    });
    await daemon.waitForReconciliations(1, 'success', 30_000);
  });

  after(async () => {
    await daemon?.kill();
    await containers.removeAll();
    await etcd?.stop();
    rmSync(files, { recursive: true, force: true });
  });

  it('skips an entry too large for one etcd transaction, with a warning naming it, and removes its stale fragment', async () => {
    const reasons = await warnedAbout('container not mirrored', tooLarge);
    assert.equal(reasons.length, 1);
    assert.match(
      reasons[0],
      /^its entry is too large for one etcd transaction \(\d+ bytes of keys and values, more than the 1048576 one etcd transaction is given \(etcd takes 1\.5 MiB per request\)\)$/,
    );
    assert.equal(daemon.lines.find((l) => l.message === 'container not mirrored' && l.id === tooLarge)?.container, `${RUN}-too-large`);
    await waitFor('stale fragment removed', async () => Object.keys(await heldFor(etcd, tooLarge)).length === 0);
  });

  it('mirrors labels with unicode, "=" in values, "/" in names and empty values exactly', async () => {
    const id = await containers.run([
      '--name',
      `${RUN}-labels`,
      '--label',
      'traefik/http/routers/web/rule=Host(`a.example`)',
      '--label',
      'a/b=1',
      '--label',
      'a/b/c=2',
      '--label',
      'trailing/=slash',
      '--label',
      'eq=a=b=c',
      '--label',
      'ключ.✓=значение 👩‍💻',
      '--label',
      'empty=',
      '--label',
      'spaced= spaced value ',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const expected = await assertMirrored(id);
    assert.equal(expected[`/registry/labels/a/b/c/${id}`], '2');
    assert.equal(expected[`/registry/containers/${id}/labels/ключ.✓`], 'значение 👩‍💻');
    assert.equal(expected[`/registry/containers/${id}/labels/empty`], '');
  });

  it('mirrors a 100 KB label value', async () => {
    const value = 'x'.repeat(100 * 1024);
    const id = await containers.run(['--name', `${RUN}-100kb`, '--label', `big=${value}`, TEST_IMAGE, 'sleep', '1000']);
    assert.equal((await assertMirrored(id))[`/registry/containers/${id}/labels/big`], value);
  });

  it('writes 500 labels (1008 keys) in one transaction, and removes them in one', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `com.example.l${String(i).padStart(3, '0')}=value-${i}`);
    const id = await containers.run(['--name', `${RUN}-500`, '--label-file', labelFile('500.labels', lines), TEST_IMAGE, 'sleep', '1000']);
    const expected = await assertMirrored(id);
    // 7 fields, the hosts/ key and the index record; 501 labels (the test's own too) twice.
    assert.equal(Object.keys(expected).length, 9 + 2 * 501);
    // One transaction: every key of the entry, its hosts/ key, its index record and its labels/ index carry one revision.
    const revisions = new Set<string>();
    for (const prefix of [
      `/registry/containers/${id}/`,
      `/registry/hosts/${HOST}/${RUN}-500`,
      `/_registrator/owners/${HOST}/mirror/registry/${id}`,
      '/registry/labels/',
    ]) {
      const res = await etcd.client.getAll().prefix(prefix).exec();
      for (const kv of res.kvs)
        if (prefix !== '/registry/labels/' || kv.key.toString().endsWith(`/${id}`)) revisions.add(String(kv.mod_revision));
    }
    assert.deepEqual([...revisions].length, 1, `revisions ${[...revisions].join(',')}`);
    // Removal: every delete of its keys (the index record's too) is seen by a watcher at one revision.
    const watcher = await etcd.client.watch().prefix('/').create();
    const deletions = new Map<string, string>();
    watcher.on('delete', (kv) => {
      const key = kv.key.toString();
      if (key.includes(id) || key === `/registry/hosts/${HOST}/${RUN}-500`) deletions.set(key, String(kv.mod_revision));
    });
    try {
      await dockerCli(['rm', '-f', id]);
      await waitFor(
        '500-label entry removed',
        async () => Object.keys(await heldFor(etcd, id)).length === 0 && deletions.size === Object.keys(expected).length,
        30_000,
      );
    } finally {
      await watcher.cancel();
    }
    assert.equal(new Set(deletions.values()).size, 1, `deletions at revisions ${[...new Set(deletions.values())].join(',')}`);
  });

  it('SERVICE_ oddities: the entry is exact, the service registers, each odd key is a warning naming the container', async () => {
    const name = `${RUN}-service-odd`;
    const id = await containers.run([
      '--name',
      name,
      '-p',
      '127.0.0.1::80',
      '-e',
      'SERVICE_=x',
      '-e',
      'SERVICE_80_=x',
      '-e',
      'SERVICE_99999_NAME=y',
      '-e',
      'SERVICE_0_NAME=z',
      '-e',
      'SERVICE_-1_NAME=w',
      '-e',
      'SERVICE_abc_NAME=v',
      '--label',
      'SERVICE_80_MODE=tcp',
      '--label',
      'SERVICE_TAGS=ünï,,=',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    await assertMirrored(id);
    const hostPort = (await containers.inspect(id)).NetworkSettings.Ports['80/tcp'][0].HostPort;
    const base = `/svc/busybox/${HOST}:${name}:80/`;
    await waitFor('hamesh service', async () => (await etcd.tree(base))[`${base}port`] === hostPort);
    assert.deepEqual(await etcd.tree(base), { [`${base}address`]: '127.0.0.1', [`${base}mode`]: 'tcp', [`${base}port`]: hostPort });
    await waitFor('service warnings', () => serviceWarnings(name, id).length >= 5);
    assert.deepEqual(
      serviceWarnings(name, id)
        .map((w) => w.slice(w.indexOf('): ') + 3))
        .sort(),
      [
        'env "SERVICE_" has no key after SERVICE_; ignored',
        'env "SERVICE_-1_NAME" names port -1, which is not a port number; ignored',
        'env "SERVICE_0_NAME" names port 0, outside 1-65535; ignored',
        'env "SERVICE_80_" has no key after the port number; ignored',
        'env "SERVICE_99999_NAME" names port 99999, outside 1-65535; ignored',
      ],
    );
  });

  it('images given by ID and short ID are mirrored as given and named after the container; Docker 20.10 refuses a digest of an image without a repo digest', async () => {
    const imageId = (await dockerCli(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE])).trim();
    for (const [suffix, image] of [
      ['by-id', imageId],
      ['by-short-id', imageId.slice('sha256:'.length, 'sha256:'.length + 12)],
    ]) {
      const name = `${RUN}-${suffix}`;
      const id = await containers.run(['--name', name, '-p', '127.0.0.1::80', TEST_IMAGE === image ? TEST_IMAGE : image, 'sleep', '1000']);
      assert.equal((await assertMirrored(id))[`/registry/containers/${id}/image`], image);
      await waitFor(
        `hamesh service named ${name}`,
        async () => Object.keys(await etcd.tree(`/svc/${name}/${HOST}:${name}:80/`)).length === 3,
      );
    }
    // A locally imported image has no repo digest, so `name@sha256:<id>` names nothing here; --pull never keeps Docker from asking a registry.
    await assert.rejects(
      dockerCli(['run', '-d', '--pull', 'never', '--label', containers.label, `test/busybox@${imageId}`, 'sleep', '1000']),
      /No such image: test\/busybox@sha256:/,
    );
  });

  it("container names at Docker's limits: 255 and 100 000 characters are mirrored; one of about 1 MiB is skipped with a warning", async () => {
    const short = `${RUN}-`.padEnd(255, 'n');
    const long = `${RUN}-`.padEnd(100_000, 'l');
    // Docker takes any length the API's 1 MiB request line leaves room for (1 100 000 characters: 431).
    const huge = `${RUN}-`.padEnd(1_040_000, 'h');
    const shortId = await containers.run(['--name', short, TEST_IMAGE, 'sleep', '1000']);
    const longId = await containers.run(['--name', long, '-p', '127.0.0.1::80', TEST_IMAGE, 'sleep', '1000']);
    const hugeId = await apiRun({ name: huge });
    await assertMirrored(shortId);
    assert.equal((await assertMirrored(longId))[`/registry/hosts/${HOST}/${long}`], longId);
    // Its service would be some 200 KB as JSON: skipped, so the hamesh writer never fails for ever on it.
    await waitFor('long-name service warning', () => serviceWarnings(long, longId).length === 1);
    assert.match(
      serviceWarnings(long, longId)[0],
      /: the service of port 80\/tcp is \d+ bytes as JSON .*more than the 131072 a registry is given for one service; skipped$/,
    );
    assert.deepEqual(
      Object.keys(await etcd.tree('/svc/')).filter((k) => k.includes(long)),
      [],
    );
    const reasons = await warnedAbout('container not mirrored', hugeId);
    assert.match(reasons[0], /^its entry is too large for one etcd transaction \(\d+ bytes of keys and values/);
    assert.equal(
      daemon.lines.find((l) => l.message === 'container not mirrored' && l.id === hugeId)?.container,
      `${huge.slice(0, 64)}... (1040000 characters)`,
    );
    assert.deepEqual(await heldFor(etcd, hugeId), {});
  });

  it("what only Docker's API stores: an empty label name is mirrored; exposures that are not ports are left out with a warning each", async () => {
    const odd = ['99999/tcp', 'abc/tcp', '80/tcp/x', '-1/tcp', ''];
    const id = await apiRun({
      name: `${RUN}-api-odd`,
      Labels: { '': 'no name', 'a\u0001b': 'control' },
      ExposedPorts: Object.fromEntries([...odd, '8080/tcp', '0/tcp'].map((p) => [p, {}])),
    });
    const expected = await assertMirrored(id, (c) => {
      for (const spec of odd) {
        delete c.Config.ExposedPorts?.[spec];
        delete c.NetworkSettings.Ports?.[spec];
      }
    });
    assert.equal(expected[`/registry/containers/${id}/labels/`], 'no name');
    assert.equal(expected[`/registry/containers/${id}/network/ports/0-tcp/intPort`], '0');
    const reasons = await warnedAbout(
      'port not mirrored',
      id,
      () => daemon.lines.filter((l) => l.message === 'port not mirrored' && l.id === id).length >= odd.length,
    );
    assert.deepEqual(reasons.sort(), odd.map((s) => `port ${JSON.stringify(s)} is not <0-65535>/<protocol>; left out of its entry`).sort());
  });

  it('is still running, wrote nothing it had to take back, and mirrors a container started after all of these', async () => {
    const id = await containers.run(['--name', `${RUN}-after`, '--label', 'plain=yes', TEST_IMAGE, 'sleep', '1000']);
    await assertMirrored(id);
    assert.doesNotThrow(() => process.kill(daemon.pid, 0));
    assert.equal(await daemon.metric('registrator_write_errors_total'), 0);
    assert.equal(await daemon.reconciliations('failure'), 0);
    assert.equal(daemon.lines.filter((l) => /unhandled|uncaught/i.test(l.message)).length, 0);
    // Each warning once per container, not once per sync.
    daemon.signal('SIGHUP');
    // Counted below are the warnings of this reconciliation: wait for the log line that follows them, not for the counter.
    await daemon.waitForLog('signal handled', 1, 30_000, (l) => l.signal === 'SIGHUP');
    assert.equal(
      daemon.count('container not mirrored', (l) => l.id === tooLarge),
      1,
    );
  });
});
