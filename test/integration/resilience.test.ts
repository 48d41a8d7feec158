import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { PrivateDockerd } from '../support/dockerd';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { sleep, waitFor } from '../support/wait';

async function stillRunning(d: DaemonProcess): Promise<boolean> {
  return (await Promise.race([d.exited.then(() => false), sleep(100).then(() => true)])) as boolean;
}

describe('resilience: Docker and etcd outages', () => {
  let etcd: EtcdServer;

  before(async () => {
    etcd = await EtcdServer.start();
  });
  after(async () => {
    await etcd.stop();
  });

  describe('dockerd restarted with --live-restore while a container dies', () => {
    const HOST = `live-${process.pid}`;
    const engine = new PrivateDockerd(`srlive${process.pid}`);
    const containers = new TestContainers('live', engine.env);
    let daemon: DaemonProcess;

    before(async () => {
      await engine.start(true);
      await ensureTestImage(engine.env);
    });
    after(async () => {
      await daemon?.kill();
      await engine.destroy();
    });

    it('reconnects, converges, and keeps following events', async () => {
      const dying = await containers.run(['--network', 'none', '--name', 'dying', TEST_IMAGE, 'sleep', '1000']);
      const staying = await containers.run(['--network', 'none', '--name', 'staying', TEST_IMAGE, 'sleep', '1000']);
      daemon = new DaemonProcess([], {
        EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
        EC_REGISTRATOR_HOST: HOST,
        EC_REGISTRATOR_DOCKER_SOCKET: engine.socket,
      });
      await daemon.waitForReconciliations(1);
      for (const id of [dying, staying]) {
        const expected = sorted(expectedMirror(await containers.inspect(id), HOST));
        await waitFor('mirrored', async () => JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected));
      }
      const dyingPid = (await containers.inspect(dying)).State.Pid;

      await engine.stop();
      await daemon.waitForDocker('disconnected');
      // The container dies while no engine is there to report it.
      process.kill(dyingPid, 'SIGKILL');
      await sleep(1_000);
      assert.ok(Object.keys(await heldFor(etcd, dying)).length > 0, 'nothing could have removed it yet');
      await engine.start(true);

      await waitFor(
        'the dead container removed after reconnecting',
        async () => Object.keys(await heldFor(etcd, dying)).length === 0,
        30_000,
      );
      const expectedStaying = sorted(expectedMirror(await containers.inspect(staying), HOST));
      assert.deepEqual(sorted(await heldFor(etcd, staying)), expectedStaying);
      assert.ok(daemon.count('subscribed to Docker events') >= 2);

      const later = await containers.run(['--network', 'none', TEST_IMAGE, 'sleep', '1000']);
      const expectedLater = sorted(expectedMirror(await containers.inspect(later), HOST));
      await waitFor(
        'events followed after the restart',
        async () => JSON.stringify(sorted(await heldFor(etcd, later))) === JSON.stringify(expectedLater),
      );
      assert.ok(await stillRunning(daemon));
    });
  });

  describe('-resync N', () => {
    const HOST = `resync-${process.pid}`;
    const containers = new TestContainers(`resync-${process.pid}`);
    let daemon: DaemonProcess;

    after(async () => {
      await daemon?.kill();
      await containers.removeAll();
    });

    it('restores a key deleted behind its back, without any event or signal', async () => {
      await ensureTestImage();
      const id = await containers.run([TEST_IMAGE, 'sleep', '1000']);
      // Self-healing would restore the key first; this test is about -resync alone.
      daemon = new DaemonProcess(['-resync', '1'], {
        EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
        EC_REGISTRATOR_HOST: HOST,
        EC_REGISTRATOR_SELF_HEAL: 'false',
      });
      const expected = sorted(expectedMirror(await containers.inspect(id), HOST));
      await waitFor('mirrored', async () => JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected));
      await etcd.client.delete().key(`/registry/containers/${id}/image`);
      await waitFor('restored by resync', async () => JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected), 10_000);
      assert.ok(daemon.count('reconciled', (l) => l.reason === 'resync') >= 1);
    });
  });

  describe('etcd killed and restarted while containers come and go', () => {
    const HOST = `etcdout-${process.pid}`;
    const containers = new TestContainers(`etcdout-${process.pid}`);
    let daemon: DaemonProcess;

    before(async () => {
      await ensureTestImage();
    });
    after(async () => {
      await daemon?.kill();
      await containers.removeAll();
    });

    it('converges once etcd is back, and the daemon never exits', async () => {
      const leaving = await containers.run([TEST_IMAGE, 'sleep', '1000']);
      const staying = await containers.run(['--label', 'keep=yes', TEST_IMAGE, 'sleep', '1000']);
      daemon = new DaemonProcess([], { EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint, EC_REGISTRATOR_HOST: HOST });
      await daemon.waitForReconciliations(1);
      await waitFor(
        'both mirrored',
        async () => Object.keys(await heldFor(etcd, leaving)).length > 0 && Object.keys(await heldFor(etcd, staying)).length > 0,
      );

      await etcd.signal('SIGKILL');
      await dockerCli(['rm', '-f', leaving]);
      const arriving = await containers.run(['--label', 'new=yes', TEST_IMAGE, 'sleep', '1000']);
      // The first failed write takes the mirror out of step; retries come as reconciliations, which fail until etcd is back.
      await daemon.waitForMetric('registrator_write_errors_total', {}, 1, 30_000);
      await daemon.waitForReconciliations(1, 'failure', 30_000);
      await sleep(2_000);
      assert.ok(await stillRunning(daemon));
      await etcd.launch();

      await waitFor(
        'converged after the outage',
        async () => {
          const gone = Object.keys(await heldFor(etcd, leaving)).length === 0;
          const there =
            JSON.stringify(sorted(await heldFor(etcd, arriving))) ===
            JSON.stringify(sorted(expectedMirror(await containers.inspect(arriving), HOST)));
          const kept =
            JSON.stringify(sorted(await heldFor(etcd, staying))) ===
            JSON.stringify(sorted(expectedMirror(await containers.inspect(staying), HOST)));
          return gone && there && kept;
        },
        60_000,
        250,
      );
      assert.ok(await stillRunning(daemon));
      assert.ok(daemon.count('writers back in step') >= 1);
    });
  });
});
