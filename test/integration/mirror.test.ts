import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { ensureTestImage, TEST_IMAGE, TestContainers, dockerCli } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';

const HOST = `mirror-${process.pid}`;

describe('mirror writer against real dockerd and etcd', () => {
  let etcd: EtcdServer;
  let daemon: DaemonProcess;
  const containers = new TestContainers(`mirror-${process.pid}`);
  let preId: string;

  /** Waits until etcd holds exactly what docs/mirror.md, "Key layout" gives for the container as Docker shows it now. */
  async function assertMirrored(id: string): Promise<void> {
    let expected: Record<string, string> = {};
    await waitFor(`mirror of ${id.slice(0, 12)}`, async () => {
      expected = sorted(expectedMirror(await containers.inspect(id), HOST));
      return JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected);
    }).catch(async (err) => {
      assert.deepEqual(sorted(await heldFor(etcd, id)), expected, String(err));
    });
  }

  async function assertGone(id: string): Promise<void> {
    await waitFor(`removal of ${id.slice(0, 12)}`, async () => Object.keys(await heldFor(etcd, id)).length === 0).catch(async (err) => {
      assert.deepEqual(await heldFor(etcd, id), {}, String(err));
    });
  }

  before(async () => {
    await ensureTestImage();
    etcd = await EtcdServer.start();
    const port = await freePorts(1);
    preId = await containers.run([
      '--name',
      `sr-pre-${process.pid}`,
      '--label',
      'com.example.role=web',
      '--label',
      'path/with/slashes=a/b',
      '--label',
      'unicode.ключ=значение ✓',
      '-p',
      `127.0.0.1:${port}:80`,
      '-p',
      `127.0.0.1:${port}:53/udp`,
      '--expose',
      '9000',
      TEST_IMAGE,
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    daemon = new DaemonProcess([], { EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint, EC_REGISTRATOR_HOST: HOST });
    await daemon.waitForReconciliations(1);
  });

  after(async () => {
    await daemon?.kill();
    await containers.removeAll();
    await etcd?.stop();
  });

  it('mirrors a container that was running before start, key for key', async () => {
    await assertMirrored(preId);
    const tree = await etcd.tree('/registry/');
    assert.equal(tree[`/registry/labels/path/with/slashes/${preId}`], 'a/b');
    assert.equal(tree[`/registry/containers/${preId}/network/ports/53-udp/proto`], 'udp');
    assert.equal(tree[`/registry/containers/${preId}/network/ports/9000-tcp/extPort`], '');
  });

  it('mirrors a container started afterwards, with no network', async () => {
    const id = await containers.run([
      '--name',
      `sr-post-${process.pid}`,
      '--network',
      'none',
      '--label',
      'tier=batch',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    await assertMirrored(id);
    assert.equal((await etcd.tree('/registry/'))[`/registry/containers/${id}/network/ip`], '');
  });

  it('follows pause and unpause in the state key', async () => {
    const id = await containers.run([TEST_IMAGE, 'sleep', '1000']);
    await assertMirrored(id);
    await dockerCli(['pause', id]);
    await waitFor(
      'state paused',
      async () => (await etcd.tree(`/registry/containers/${id}/state`))[`/registry/containers/${id}/state`] === 'paused',
    );
    await assertMirrored(id);
    await dockerCli(['unpause', id]);
    await waitFor(
      'state running',
      async () => (await etcd.tree(`/registry/containers/${id}/state`))[`/registry/containers/${id}/state`] === 'running',
    );
    await assertMirrored(id);
  });

  it('moves the hosts/<host>/<name> key on rename', async () => {
    const id = await containers.run(['--name', `sr-old-${process.pid}`, TEST_IMAGE, 'sleep', '1000']);
    await assertMirrored(id);
    await dockerCli(['rename', id, `sr-new-${process.pid}`]);
    await assertMirrored(id);
    const hosts = await etcd.tree(`/registry/hosts/${HOST}/`);
    assert.equal(hosts[`/registry/hosts/${HOST}/sr-new-${process.pid}`], id);
    assert.equal(hosts[`/registry/hosts/${HOST}/sr-old-${process.pid}`], undefined);
  });

  it('removes the whole entry on stop and on docker rm -f', async () => {
    const stopped = await containers.run(['--label', 'gone=soon', TEST_IMAGE, 'sleep', '1000']);
    const removed = await containers.run(['--label', 'gone=now', TEST_IMAGE, 'sleep', '1000']);
    await assertMirrored(stopped);
    await assertMirrored(removed);
    await dockerCli(['stop', '-t', '0', stopped]);
    await dockerCli(['rm', '-f', removed]);
    await assertGone(stopped);
    await assertGone(removed);
  });

  it('mirrors a --rm container and removes it when it exits by itself', async () => {
    const id = await containers.run(['--rm', TEST_IMAGE, 'sleep', '3']);
    await assertMirrored(id);
    await assertGone(id);
  });

  it('holds a HEALTHCHECK container only while healthy', async () => {
    const id = await containers.run([
      '--health-cmd',
      '/bin/busybox test -f /ok',
      '--health-interval',
      '2s',
      '--health-retries',
      '1',
      TEST_IMAGE,
      'sh',
      '-c',
      '/bin/busybox touch /ok; exec /bin/busybox sleep 1000',
    ]);
    // Until the first check passes (2 s), the container is "starting": nothing is written.
    assert.equal((await containers.inspect(id)).State.Health?.Status, 'starting');
    assert.deepEqual(await heldFor(etcd, id), {});
    await waitFor('healthy', async () => (await containers.inspect(id)).State.Health?.Status === 'healthy', 20_000);
    await assertMirrored(id);
    await dockerCli(['exec', id, '/bin/busybox', 'rm', '/ok']);
    await waitFor('unhealthy', async () => (await containers.inspect(id)).State.Health?.Status === 'unhealthy', 20_000);
    await assertGone(id);
    assert.equal((await containers.inspect(id)).State.Running, true, 'the container itself still runs');
  });

  it('removes a container that was already running when rm -f races its start', async () => {
    // Start and remove at once: the start event's inspect may find it gone (404); either way nothing is left.
    const id = await containers.run([TEST_IMAGE, 'sleep', '1000']);
    await dockerCli(['rm', '-f', id]);
    await assertGone(id);
    assert.equal(await daemon.metric('registrator_write_errors_total'), 0);
  });

  it('leaves the first container untouched throughout, and does not rewrite unchanged keys on SIGHUP', async () => {
    await assertMirrored(preId);
    const before = await etcd.client.get(`/registry/containers/${preId}/name`).exec();
    await daemon.reconcileOn('SIGHUP');
    const afterHup = await etcd.client.get(`/registry/containers/${preId}/name`).exec();
    assert.equal(afterHup.kvs[0].mod_revision, before.kvs[0].mod_revision);
  });
});
