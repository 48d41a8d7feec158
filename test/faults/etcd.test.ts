import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import { sleep, waitFor } from '../support/wait';

const exec = promisify(execFile);

/** Churn while etcd is out: new containers, one-shot and --rm containers, stops and removals. */
async function churn(host: FleetHost, round: number): Promise<void> {
  const running = await host.running();
  await host.run();
  await host.run({ rm: true, cmd: ['true'] });
  await host.run({ cmd: ['sh', '-c', 'exit 3'] });
  if (running[0]) await host.docker(['stop', '-t', '0', running[0].Id]);
  if (running[1]) await host.docker(['rm', '-f', running[1].Id]);
  await host.run({ name: `${host.host}-r${round}` });
}

describe('etcd faults: outage, freeze, lost lease', { timeout: 600_000 }, () => {
  let etcd: EtcdServer;
  const host = new FleetHost(`fe${process.pid}`, () => etcd.endpoint);

  before(async () => {
    etcd = await EtcdServer.start();
    await host.boot();
    for (let i = 0; i < 4; i++) await host.run();
    await host.startDaemon();
    await assertConverged(etcd, [host]);
  });
  after(async () => {
    await host.shutdown();
    await etcd?.stop();
  });

  /** Writes and reconciliations that failed so far (the /metrics counters). */
  const failures = async () =>
    (await host.daemon!.metric('registrator_write_errors_total')) + (await host.daemon!.reconciliations('failure'));

  it('the only member killed while containers start and die, then restarted: converges', async () => {
    const failuresBefore = await failures();
    await etcd.signal('SIGKILL');
    await churn(host, 1);
    await sleep(2_000);
    await churn(host, 2);
    await etcd.launch();
    await assertConverged(etcd, [host], { stableMs: 1_000 });
    assert.ok((await failures()) > failuresBefore, 'the daemon saw the outage');
    await host.daemon!.waitUntilHealthy();
  });

  it("etcd frozen (SIGSTOP) past the daemon's 5 s call deadline while containers change: converges after SIGCONT", async () => {
    const failuresBefore = await failures();
    await etcd.signal('SIGSTOP');
    try {
      await churn(host, 3);
      await sleep(8_000);
    } finally {
      await etcd.signal('SIGCONT');
    }
    await assertConverged(etcd, [host], { stableMs: 1_000 });
    assert.ok((await failures()) > failuresBefore, 'writes timed out during the freeze');
  });

  it('100 containers started and stopped concurrently while etcd restarts: converges', async () => {
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => host.run({ name: `${host.host}-burst${i}` })));
    const restart = (async () => {
      await sleep(300);
      await etcd.signal('SIGKILL');
      await sleep(1_500);
      await etcd.launch();
    })();
    // Half of them stop again while etcd is down or coming back.
    await Promise.all(ids.filter((_, i) => i % 2 === 0).map((id) => host.docker(['rm', '-f', id])));
    await restart;
    await assertConverged(etcd, [host], { timeoutMs: 120_000, stableMs: 1_000 });
    const mirrored = Object.keys(await etcd.tree('/registry/hosts/')).length;
    assert.equal(mirrored, (await host.running()).length);
  });
});

describe('etcd faults: a lost lease (-ttl)', { timeout: 300_000 }, () => {
  let etcd: EtcdServer;
  const host = new FleetHost(`fl${process.pid}`, () => etcd.endpoint, ['-ttl', '6', '-ttl-refresh', '2']);

  before(async () => {
    etcd = await EtcdServer.start();
    await host.boot();
    for (let i = 0; i < 3; i++) await host.run();
    await host.startDaemon();
    await assertConverged(etcd, [host], { ttl: 6 });
  });
  after(async () => {
    await host.shutdown();
    await etcd?.stop();
  });

  it("the lease revoked behind the daemon's back: the leased keys vanish and come back under a new lease", async () => {
    const service = Object.keys(await etcd.tree('/services/'))[0];
    const { lease } = (await etcd.leaseOf(service))!;
    assert.notEqual(lease, '0');
    await exec('etcdctl', ['--endpoints', etcd.endpoint, 'lease', 'revoke', BigInt(lease).toString(16)], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    assert.deepEqual(await etcd.tree('/services/'), {}, 'revoking the lease took the service keys with it');
    await waitFor('the service under a new lease', async () => ((await etcd.leaseOf(service))?.lease ?? lease) !== lease, 15_000);
    await assertConverged(etcd, [host], { ttl: 6 });
    const now = await etcd.leaseOf(service);
    assert.notEqual(now?.lease, lease);
    // Kept alive: still there after more than one TTL.
    await sleep(7_000);
    await assertConverged(etcd, [host], { ttl: 6, timeoutMs: 1_000 });
  });

  it('churn during a lost lease converges too', async () => {
    const service = Object.keys(await etcd.tree('/services/'))[0];
    const { lease } = (await etcd.leaseOf(service))!;
    await exec('etcdctl', ['--endpoints', etcd.endpoint, 'lease', 'revoke', BigInt(lease).toString(16)], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    await churn(host, 9);
    await waitFor('a new lease', async () => (await etcd.leaseOf(service))?.lease !== lease || !(await etcd.leaseOf(service)), 15_000);
    await assertConverged(etcd, [host], { ttl: 6, stableMs: 1_000 });
  });
});
