import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { DaemonProcess } from '../support/daemon';
import { TEST_IMAGE } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { heldFor } from '../support/mirror';
import { freePorts } from '../support/ports';
import { sleep, waitFor } from '../support/wait';

const HOST = `opt-${process.pid}`;
const IP = '10.9.8.7';

describe('-cleanup against real dockerd and etcd', () => {
  const suite = daemonSuite('cleanup', HOST);
  const { containers } = suite;

  it("removes this host's dangling services (left without ownership records) and nobody else's", async () => {
    const put = (key: string, value: string) => suite.etcd.client.put(key).value(value);
    // As gliderlabs/registrator would have left them for a container that is gone: no ownership record.
    await put(`/services/web/${HOST}:gone:80`, '10.0.0.1:8080');
    await put(`/services/web/${HOST}:gone:80/deeper`, 'not a service key');
    await put(`/hamesh/web/${HOST}:gone:80/address`, '10.0.0.1');
    await put(`/hamesh/web/${HOST}:gone:80/port`, '8080');
    // Not ours: another host, a host whose name merely starts like ours, a custom ID.
    const foreign = {
      '/services/web/other-host:gone:80': '10.0.0.2:8080',
      [`/services/web/${HOST}x:gone:80`]: '10.0.0.3:8080',
      '/services/web/custom-id': '10.0.0.4:8080',
      '/hamesh/web/other-host:gone:80/address': '10.0.0.2',
    };
    for (const [key, value] of Object.entries(foreign)) await put(key, value);
    const name = `live-${process.pid}`;
    const live = await containers.run(['--name', name, '-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const liveKey = `/services/web/${HOST}:${name}:80`;
    const liveValue = `${IP}:${await suite.hostPort(live, '80/tcp')}`;
    const uris = ['etcd:///services', 'hamesh:///hamesh'];

    // Without -cleanup the dangling keys are left alone.
    const plain = await suite.start(['--no-mirror', '-ip', IP, ...uris]);
    await waitFor('live registered', async () => (await suite.etcd.tree('/services/'))[liveKey] === liveValue);
    assert.equal((await suite.etcd.tree('/services/'))[`/services/web/${HOST}:gone:80`], '10.0.0.1:8080');
    await plain.kill();

    const daemon = await suite.start(['--no-mirror', '-ip', IP, '-cleanup', ...uris]);
    // The first reconciliation (awaited by start) ran the clean-up; what it reports to the operator, once per registry, is the log's.
    await daemon.waitForLog('removed dangling services (-cleanup)', 2);
    const services = await suite.etcd.tree('/services/');
    const hamesh = await suite.etcd.tree('/hamesh/');
    assert.deepEqual(
      Object.keys({ ...services, ...hamesh }).sort(),
      [
        ...Object.keys(foreign),
        liveKey,
        `/services/web/${HOST}:gone:80/deeper`,
        ...['address', 'mode', 'port'].map((k) => `/hamesh/web/${HOST}:${name}:80/${k}`),
      ].sort(),
    );
    for (const [key, value] of Object.entries(foreign)) assert.equal({ ...services, ...hamesh }[key], value);
  });

  it('with -deregister on-success, a container that exited with an error is deregistered at the next reconciliation', async () => {
    const daemon = await suite.start(['--no-mirror', '-ip', IP, '-deregister', 'on-success', '-cleanup', 'etcd:///services']);
    const failing = await containers.run([
      '-e',
      'SERVICE_NAME=failing',
      '-p',
      '80',
      TEST_IMAGE,
      'sh',
      '-c',
      '/bin/busybox sleep 2; exit 3',
    ]);
    await waitFor('registered', async () => Object.keys(await suite.etcd.tree('/services/')).length === 1);
    await waitFor('exited', async () => (await containers.inspect(failing)).State.Status === 'exited');
    await sleep(1_000);
    assert.equal(Object.keys(await suite.etcd.tree('/services/')).length, 1, 'kept after the error exit');
    daemon.signal('SIGHUP');
    await waitFor('deregistered by the reconciliation', async () => Object.keys(await suite.etcd.tree('/services/')).length === 0);
    assert.equal(daemon.count('deregistered (-cleanup: container exited)'), 1);
  });
});

describe('-retry-attempts / -retry-interval: a registry that is down at start', () => {
  const suite = daemonSuite('retry', HOST);
  const { containers } = suite;
  let registry: EtcdServer;

  before(async () => {
    registry = await EtcdServer.start();
  });
  after(async () => {
    await registry.stop();
  });

  it('is retried every interval while the mirror works, joins once it answers, and is reconciled after a later outage', async () => {
    await registry.signal('SIGKILL');
    const web = await containers.run(['-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const daemon = await suite.start(['-ip', IP, '-retry-interval', '300', `etcd://${registry.endpoint}/services`]);
    await waitFor('mirrored while the registry is down', async () => Object.keys(await heldFor(suite.etcd, web)).length > 0);
    await daemon.waitForWriterState('writer.etcd', 'unreachable');
    // Retried every interval: the attempts are counted in the log only.
    await daemon.waitForLog('writer unreachable; retrying', 3);

    await registry.launch();
    await daemon.waitForMetric('registrator_writer_reachable', { writer: 'writer.etcd' }, 1);
    const webKey = async (id: string) => `/services/web/${HOST}:${(await containers.inspect(id)).Name.slice(1)}:80`;
    await waitFor(
      'registered once it answers',
      async () => (await registry.tree('/services/'))[await webKey(web)] === `${IP}:${await suite.hostPort(web, '80/tcp')}`,
    );

    // Down again later: the mirror keeps following containers; the registry catches up when back.
    await registry.signal('SIGKILL');
    const late = await containers.run(['-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    await waitFor('mirror follows during the outage', async () => Object.keys(await heldFor(suite.etcd, late)).length > 0);
    await sleep(1_000);
    await registry.launch();
    await waitFor(
      'registry reconciled when back',
      async () => (await registry.tree('/services/'))[await webKey(late)] === `${IP}:${await suite.hostPort(late, '80/tcp')}`,
      45_000,
      250,
    );
    assert.equal(daemon.count('giving up'), 0);
  });

  it('with a finite -retry-attempts, exits 1 naming the registry once they are spent, keeping the data written', async () => {
    const dead = await freePorts(1);
    const web = await containers.run([TEST_IMAGE, 'sleep', '1000']);
    const daemon = new DaemonProcess(['-retry-attempts', '2', '-retry-interval', '400', `etcd://127.0.0.1:${dead}/services`], {
      EC_REGISTRATOR_ETCD_HOSTS: suite.etcd.endpoint,
      EC_REGISTRATOR_HOST: HOST,
    });
    suite.daemon = daemon;
    assert.equal(await daemon.exited, 1);
    assert.equal(daemon.count('writer unreachable; retrying'), 2);
    const fatal = daemon.lines.find((l) => l.message === 'giving up');
    assert.match(
      String((fatal?.err as { message?: string })?.message ?? fatal?.err),
      new RegExp(`writer\\.etcd still unreachable after 3 attempts \\(-retry-attempts 2\\)`),
    );
    // Like SIGINT: what the mirror wrote stays.
    assert.ok(Object.keys(await heldFor(suite.etcd, web)).length > 0);
  });
});
