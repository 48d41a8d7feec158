import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { TEST_IMAGE } from '../support/docker';
import { sleep, waitFor } from '../support/wait';

const HOST = `ttl-${process.pid}`;
const IP = '10.9.8.7';

describe('-ttl / -ttl-refresh: registrations held by an etcd lease', () => {
  const suite = daemonSuite('ttl', HOST);
  const { containers } = suite;

  /** Starts a container with one published port and returns its service keys in both registries. */
  async function webContainer() {
    const name = `web-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    const id = await containers.run(['--name', name, '-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const port = Number(await suite.hostPort(id, '80/tcp'));
    const serviceId = `${HOST}:${name}:80`;
    return {
      id,
      etcdKey: `/services/web/${serviceId}`,
      skydnsKey: `/skydns/local/skydns/web/${serviceId}`,
      ownerKey: `/_registrator/owners/${HOST}/etcd/services/${id}/${encodeURIComponent(serviceId)}`,
      value: `${IP}:${port}`,
      record: JSON.stringify({ host: IP, port, ttl: 3 }),
    };
  }

  it('holds service keys and ownership records by a kept-alive lease; after SIGKILL they expire, the mirror stays', async () => {
    const daemon = await suite.start(['-ip', IP, '-ttl', '3', '-ttl-refresh', '1', 'etcd:///services', 'skydns2:///skydns.local']);
    const web = await webContainer();
    await waitFor(
      'registered',
      async () =>
        (await suite.etcd.tree('/services/'))[web.etcdKey] === web.value &&
        (await suite.etcd.tree('/skydns/'))[web.skydnsKey] === web.record,
    );

    const held = await suite.etcd.leaseOf(web.etcdKey);
    assert.ok(held && held.lease !== '0', 'the service key is held by a lease');
    assert.equal(held.grantedTtl, 3);
    assert.equal((await suite.etcd.leaseOf(web.ownerKey))?.lease, held.lease, 'the ownership record shares the lease');
    // The mirror is not leased: SIGINT's "keep data" holds for it whatever -ttl says.
    assert.equal((await suite.etcd.leaseOf(`/registry/containers/${web.id}/id`))?.lease, '0');

    // Kept alive every second: still there well past the TTL.
    await sleep(5_000);
    assert.equal((await suite.etcd.tree('/services/'))[web.etcdKey], web.value);
    assert.equal((await suite.etcd.leaseOf(web.etcdKey))?.lease, held.lease);

    await daemon.kill();
    const killedAt = Date.now();
    await waitFor(
      'registrations expired',
      async () => {
        const all = await suite.etcd.tree('/');
        return !(web.etcdKey in all) && !(web.skydnsKey in all) && !(web.ownerKey in all);
      },
      10_000,
      100,
    );
    assert.ok(Date.now() - killedAt >= 1_000, 'the keys outlive the daemon until the lease runs out');
    assert.equal((await suite.etcd.tree(`/registry/containers/${web.id}/`))[`/registry/containers/${web.id}/id`], web.id, 'mirror kept');

    // A new daemon writes them again under a lease of its own.
    await suite.start(['-ip', IP, '-ttl', '3', '-ttl-refresh', '1', 'etcd:///services', 'skydns2:///skydns.local']);
    await waitFor('registered again', async () => (await suite.etcd.tree('/services/'))[web.etcdKey] === web.value);
    const again = await suite.etcd.leaseOf(web.etcdKey);
    assert.ok(again && again.lease !== '0' && again.lease !== held.lease);
  });

  it('a restarted daemon moves keys left under the old lease to its own, so they do not expire with it', async () => {
    const first = await suite.start(['-ip', IP, '-ttl', '4', '-ttl-refresh', '1', 'etcd:///services']);
    const web = await webContainer();
    await waitFor('registered', async () => (await suite.etcd.tree('/services/'))[web.etcdKey] === web.value);
    const old = (await suite.etcd.leaseOf(web.etcdKey))!.lease;
    await first.kill();
    // Restarted within the TTL: the key is still there, on the dead daemon's lease.
    await suite.start(['-ip', IP, '-ttl', '4', '-ttl-refresh', '1', 'etcd:///services']);
    await waitFor('moved to the new lease', async () => {
      const now = await suite.etcd.leaseOf(web.etcdKey);
      return now !== undefined && now.lease !== '0' && now.lease !== old;
    });
    await sleep(6_000);
    assert.equal((await suite.etcd.tree('/services/'))[web.etcdKey], web.value, 'still registered after the old lease expired');
  });

  it('a lease lost while etcd was frozen longer than the TTL is replaced and every key written again', async () => {
    const daemon = await suite.start(['-ip', IP, '-ttl', '2', '-ttl-refresh', '1', 'etcd:///services', 'hamesh:///hamesh']);
    const web = await webContainer();
    const hameshAddress = `/hamesh/web/${web.etcdKey.split('/').pop()}/address`;
    await waitFor(
      'registered',
      async () =>
        (await suite.etcd.tree('/services/'))[web.etcdKey] === web.value && (await suite.etcd.tree('/hamesh/'))[hameshAddress] === IP,
    );
    const before = (await suite.etcd.leaseOf(web.etcdKey))!.lease;

    await suite.etcd.signal('SIGSTOP');
    await sleep(5_000);
    await suite.etcd.signal('SIGCONT');

    // The lease gauge is 0 only for a moment: the warning the operator reads is the lasting trace of the loss.
    await daemon.waitForLog('lease lost; taking a new one and writing its keys again', 1, 20_000);
    await waitFor(
      'written again under a new lease',
      async () => {
        const [service, owner, hamesh] = await Promise.all([
          suite.etcd.leaseOf(web.etcdKey),
          suite.etcd.leaseOf(web.ownerKey),
          suite.etcd.leaseOf(hameshAddress),
        ]);
        return (
          service !== undefined &&
          service.lease !== '0' &&
          service.lease !== before &&
          owner?.lease === service.lease &&
          hamesh !== undefined &&
          hamesh.lease !== before
        );
      },
      40_000,
      200,
    );
    assert.equal((await suite.etcd.tree('/services/'))[web.etcdKey], web.value);
    assert.equal((await suite.etcd.tree('/hamesh/'))[hameshAddress], IP);
    assert.equal(daemon.count('start failed'), 0);
    // Still alive and still keeping the new lease alive.
    await sleep(4_000);
    assert.equal((await suite.etcd.tree('/services/'))[web.etcdKey], web.value);
  });
});
