import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { waitFor } from '../support/wait';

const HOST = `port-${process.pid}`;
const IP = '10.9.8.6';

/**
 * docs/configuration.md: an etcd endpoint without a port means 2379. The etcd here listens on 127.0.0.1:2379 and
 * the daemon is told only `127.0.0.1`, for its own connection and for a hamesh URI's own host; if
 * 2379 is taken on this machine the test fails (it cannot show the default port anywhere else).
 */
describe('etcd endpoints without a port, against a real etcd on 127.0.0.1:2379', () => {
  let etcd: EtcdServer;
  let daemon: DaemonProcess | undefined;
  const containers = new TestContainers(`port-${process.pid}`);

  before(async () => {
    await ensureTestImage();
    etcd = await EtcdServer.start({ port: 2379 });
  });
  after(async () => {
    await daemon?.kill();
    await containers.removeAll();
    await etcd?.stop();
  });

  it('EC_REGISTRATOR_ETCD_HOSTS=127.0.0.1 and hamesh://127.0.0.1/mesh write the mirror and the mesh there', async () => {
    const name = `web-${process.pid}`;
    const id = await containers.run(['--name', name, '-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'httpd', '-f', '-p', '80']);
    daemon = new DaemonProcess(['-ip', IP, 'hamesh://127.0.0.1/mesh'], {
      EC_REGISTRATOR_ETCD_HOSTS: '127.0.0.1',
      EC_REGISTRATOR_HOST: HOST,
    });
    const info = await containers.inspect(id);
    const hostPort = info.NetworkSettings.Ports['80/tcp'][0].HostPort;
    const serviceId = `${HOST}:${name}:80`;
    const mesh = `/mesh/web/${serviceId}/`;
    const expected = sorted({
      ...expectedMirror(info, HOST),
      [`${mesh}address`]: IP,
      [`${mesh}port`]: hostPort,
      [`${mesh}mode`]: 'tcp',
    });
    // The engine may run other tests' containers, which this daemon mirrors and registers too: only this one is compared.
    const ourMesh = async () => Object.fromEntries(Object.entries(await etcd.tree('/mesh/')).filter(([k]) => k.includes(`/${serviceId}/`)));
    const written = async () => sorted({ ...(await heldFor(etcd, id)), ...(await ourMesh()) });
    await waitFor(
      'mirror and hamesh keys on 127.0.0.1:2379',
      async () => JSON.stringify(await written()) === JSON.stringify(expected),
      30_000,
    ).catch(async (err) => {
      assert.deepEqual(await written(), expected, `${String(err)}; daemon log: ${JSON.stringify(daemon!.lines.slice(-5))}`);
    });
    // The hamesh writer's ownership record, in the same etcd: the service as registered.
    const owned = JSON.parse(
      (await etcd.client.get(`/_registrator/owners/${HOST}/hamesh/mesh/${id}/${encodeURIComponent(serviceId)}`).string()) ?? 'null',
    );
    assert.deepEqual(
      { id: owned.id, name: owned.name, ip: owned.ip, port: owned.port },
      { id: serviceId, name: 'web', ip: IP, port: Number(hostPort) },
    );
    const started = daemon.lines.find((l) => l.message === 'starting');
    assert.deepEqual(started?.etcd, ['http://127.0.0.1:2379']);
  });
});
