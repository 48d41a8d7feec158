import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { dockerCli, TEST_IMAGE } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { waitFor } from '../support/wait';
import { anotherHostsService } from '../support/service-record';

const HOST = `reg-${process.pid}`;
const IP = '10.9.8.7';

/** The registry keys (not ownership records) etcd holds under the backends' prefixes. */
async function registry(etcd: EtcdServer): Promise<Record<string, string>> {
  return { ...(await etcd.tree('/services/')), ...(await etcd.tree('/skydns/')) };
}

describe('etcd and skydns2 backends against real dockerd and etcd', () => {
  const suite = daemonSuite('reg', HOST);
  const { containers } = suite;
  const start = (extra: string[] = []) => suite.start(['--no-mirror', '-ip', IP, ...extra, 'etcd:///services', 'skydns2:///skydns.local']);

  it('registers single-port, multi-port and udp containers with the exact keys', async () => {
    await start();
    const single = await containers.run(['--name', `one-${process.pid}`, '-p', '80', TEST_IMAGE, 'httpd', '-f', '-p', '80']);
    const multi = await containers.run([
      '--name',
      `two-${process.pid}`,
      '-e',
      'SERVICE_NAME=api',
      '-p',
      '80',
      '-p',
      '443',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const udp = await containers.run([
      '--name',
      `dns-${process.pid}`,
      '--label',
      'SERVICE_NAME=dns',
      '-p',
      '53/udp',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const p1 = Number(await suite.hostPort(single, '80/tcp'));
    const p80 = Number(await suite.hostPort(multi, '80/tcp'));
    const p443 = Number(await suite.hostPort(multi, '443/tcp'));
    const p53 = Number(await suite.hostPort(udp, '53/udp'));
    const expected = {
      // Image basename without tag when SERVICE_NAME is absent.
      [`/services/busybox/${HOST}:one-${process.pid}:80`]: `${IP}:${p1}`,
      // Several ports: the name gets -<port>.
      [`/services/api-80/${HOST}:two-${process.pid}:80`]: `${IP}:${p80}`,
      [`/services/api-443/${HOST}:two-${process.pid}:443`]: `${IP}:${p443}`,
      // udp: the ID ends in :udp.
      [`/services/dns/${HOST}:dns-${process.pid}:53:udp`]: `${IP}:${p53}`,
      [`/skydns/local/skydns/busybox/${HOST}:one-${process.pid}:80`]: JSON.stringify({ host: IP, port: p1 }),
      [`/skydns/local/skydns/api-80/${HOST}:two-${process.pid}:80`]: JSON.stringify({ host: IP, port: p80 }),
      [`/skydns/local/skydns/api-443/${HOST}:two-${process.pid}:443`]: JSON.stringify({ host: IP, port: p443 }),
      [`/skydns/local/skydns/dns/${HOST}:dns-${process.pid}:53:udp`]: JSON.stringify({ host: IP, port: p53 }),
    };
    await waitFor(
      'registrations',
      async () => JSON.stringify(await registry(suite.etcd)) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort())),
    );
  });

  it('-deregister always: a container that exits with an error is deregistered', async () => {
    await start();
    const id = await containers.run(['-e', 'SERVICE_NAME=failing', '-p', '80', TEST_IMAGE, 'sh', '-c', '/bin/busybox sleep 2; exit 3']);
    await waitFor('registered', async () => Object.keys(await registry(suite.etcd)).length === 2);
    await waitFor('exited', async () => (await containers.inspect(id)).State.Status === 'exited');
    await waitFor('deregistered', async () => Object.keys(await registry(suite.etcd)).length === 0);
  });

  it('-deregister on-success: an error exit stays registered until removed; exit 0 deregisters', async () => {
    await start(['-deregister', 'on-success']);
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
    const clean = await containers.run(['-e', 'SERVICE_NAME=clean', '-p', '80', TEST_IMAGE, 'sh', '-c', '/bin/busybox sleep 2; exit 0']);
    await waitFor('both registered', async () => Object.keys(await registry(suite.etcd)).length === 4);
    await waitFor(
      'both exited',
      async () =>
        (await containers.inspect(failing)).State.Status === 'exited' && (await containers.inspect(clean)).State.Status === 'exited',
    );
    await waitFor(
      'clean one deregistered',
      async () =>
        Object.keys(await registry(suite.etcd)).every((k) => k.includes('/failing/')) &&
        Object.keys(await registry(suite.etcd)).length === 2,
    );
    // A SIGHUP reconcile keeps it too: exit status 3 is not a success.
    await suite.daemon!.reconcileOn('SIGHUP');
    assert.equal(Object.keys(await registry(suite.etcd)).length, 2);
    await dockerCli(['rm', failing]);
    await waitFor('removed container deregistered', async () => Object.keys(await registry(suite.etcd)).length === 0);
  });

  it("after a crash, registrations of containers that died meanwhile are removed at start: this host's only, custom IDs too", async () => {
    // Another host's registration under the same prefixes, with its own ownership record.
    const other = anotherHostsService('other-host:db:5432');
    await suite.etcd.client.put('/services/db/other-host:db:5432').value('10.0.0.2:5432');
    await suite.etcd.client.put('/_registrator/owners/other-host/etcd/services/other-host%3Adb%3A5432').value(JSON.stringify(other));
    await start();
    const dies = await containers.run(['-e', 'SERVICE_ID=custom%id', '-e', 'SERVICE_NAME=dies', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const lives = await containers.run(['-e', 'SERVICE_NAME=lives', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    await waitFor('registered', async () => Object.keys(await registry(suite.etcd)).length === 5);
    assert.equal((await registry(suite.etcd))['/services/dies/custom%id'], `${IP}:${Number(await suite.hostPort(dies, '80/tcp'))}`);

    suite.daemon!.signal('SIGKILL');
    await suite.daemon!.exited;
    await dockerCli(['rm', '-f', dies]);
    assert.ok('/services/dies/custom%id' in (await registry(suite.etcd)), 'nobody removed it while the daemon was down');

    await start();
    await waitFor('stale registration removed', async () => !('/services/dies/custom%id' in (await registry(suite.etcd))));
    const left = await registry(suite.etcd);
    assert.equal(left['/services/db/other-host:db:5432'], '10.0.0.2:5432');
    assert.ok(`/services/lives/${HOST}:${(await containers.inspect(lives)).Name.slice(1)}:80` in left);
    assert.ok(await suite.etcd.client.get('/_registrator/owners/other-host/etcd/services/other-host%3Adb%3A5432').string());
  });

  it('SIGTERM deregisters everything this host registered and leaves the other host alone', async () => {
    await suite.etcd.client.put('/services/db/other-host:db:5432').value('10.0.0.2:5432');
    await start();
    await containers.run(['-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    await waitFor('registered', async () => Object.keys(await registry(suite.etcd)).length === 3);
    suite.daemon!.signal('SIGTERM');
    assert.equal(await suite.daemon!.exited, 0);
    assert.deepEqual(await registry(suite.etcd), { '/services/db/other-host:db:5432': '10.0.0.2:5432' });
    assert.deepEqual(await suite.etcd.tree(`/_registrator/owners/${HOST}/`), {});
  });
});
