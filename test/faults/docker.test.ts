import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import { DockerProxy } from '../support/docker-proxy';
import { sleep, waitFor } from '../support/wait';

/** Containers whose life is shorter than an inspect: exit at once, with and without --rm. */
async function shortLived(host: FleetHost, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      host.run({ rm: i % 2 === 0, cmd: ['sh', '-c', `exit ${i % 3}`], name: `${host.host}-short${Date.now()}-${i}` }),
    ),
  );
}

describe('Docker faults: engine restart, lost events, vanished containers', { timeout: 600_000 }, () => {
  let etcd: EtcdServer;
  let proxy: DockerProxy;
  const host = new FleetHost(`fd${process.pid}`, () => etcd.endpoint);

  before(async () => {
    etcd = await EtcdServer.start();
    await host.boot(true);
    proxy = await DockerProxy.start(host.dockerd.socket);
    for (let i = 0; i < 4; i++) await host.run();
    // The daemon reaches the engine only through the proxy, so the test can break or delay it.
    await host.startDaemon(true, { EC_REGISTRATOR_DOCKER_SOCKET: proxy.socketPath });
    await assertConverged(etcd, [host]);
  });
  after(async () => {
    await proxy?.stop();
    await host.shutdown();
    await etcd?.stop();
  });

  it('dockerd restarted with --live-restore while containers die and start: converges', async () => {
    const [victim, survivor] = await host.running();
    await host.dockerd.stop();
    // With the engine down, one container's process dies; the others keep running (live-restore).
    process.kill(victim.State.Pid, 'SIGKILL');
    await sleep(500);
    await host.dockerd.start(true);
    await host.run();
    await host.run({ rm: true, cmd: ['true'] });
    await assertConverged(etcd, [host], { stableMs: 1_000 });
    const tree = JSON.stringify(await etcd.tree('/'));
    assert.ok(!tree.includes(victim.Id), 'the container that died while the engine was down is gone');
    assert.ok(tree.includes(survivor.Id), 'a container that kept running is still there');
    assert.ok(host.daemon!.count('Docker event stream ended; reconnecting') + host.daemon!.count('cannot reach Docker; retrying') >= 1);
  });

  it('event stream broken while containers change: the events are lost, the reconnect reconciles them', async () => {
    const [stopMe] = await host.running();
    // Hold the re-subscription so the changes fall in the gap where no stream exists.
    proxy.hold((r) => /^\/(v[\d.]+\/)?events\b/.test(r.target));
    proxy.cut();
    await host.docker(['stop', '-t', '0', stopMe.Id]);
    await host.run();
    await shortLived(host, 4);
    await waitFor('the daemon to ask for events again', () => proxy.heldCount > 0, 20_000);
    proxy.release();
    // It was asking for events, so not subscribed: connected again means the re-subscription.
    await host.daemon!.waitForDocker('connected', 20_000);
    await assertConverged(etcd, [host], { stableMs: 1_000 });
    await host.docker(['rm', stopMe.Id]);
  });

  it('a slow reader (daemon stopped with SIGSTOP) while 40 containers start and stop: converges after SIGCONT', async () => {
    host.daemon!.signal('SIGSTOP');
    try {
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => host.run({ name: `${host.host}-slow${i}` })));
      await Promise.all(ids.slice(0, 10).map((id) => host.docker(['rm', '-f', id])));
      await shortLived(host, 20);
    } finally {
      host.daemon!.signal('SIGCONT');
    }
    await assertConverged(etcd, [host], { stableMs: 1_000 });
  });

  it('a container removed between its event and the inspect (404) leaves nothing and fails nothing', async () => {
    const warnings = host.daemon!.count('write failed');
    proxy.hold((r) => /^\/(v[\d.]+\/)?containers\/[0-9a-f]{64}\/json/.test(r.target));
    const id = await host.run({ name: `${host.host}-vanish` });
    await waitFor('the daemon to inspect the new container', () => proxy.heldCount > 0, 20_000);
    await host.docker(['rm', '-f', id]);
    proxy.release();
    await assertConverged(etcd, [host], { stableMs: 1_000 });
    assert.ok(!JSON.stringify(await etcd.tree('/')).includes(id));
    assert.equal(host.daemon!.count('write failed'), warnings, 'a 404 is "gone", not a failure');
  });

  it('--rm containers and containers that exit at once, 30 of them: nothing of them is left', async () => {
    await shortLived(host, 30);
    await assertConverged(etcd, [host], { stableMs: 2_000 });
    assert.equal(host.daemon!.count('unhandled rejection'), 0);
    assert.equal(await Promise.race([host.daemon!.exited, sleep(10).then(() => 'running')]), 'running');
  });
});
