import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import { sorted } from '../support/mirror';
import { sleep } from '../support/wait';

describe('signal faults', { timeout: 600_000 }, () => {
  let etcd: EtcdServer;
  const a = new FleetHost(`fs${process.pid}`, () => etcd.endpoint);
  const b = new FleetHost(`ft${process.pid}`, () => etcd.endpoint);

  before(async () => {
    etcd = await EtcdServer.start();
    await Promise.all([a.boot(), b.boot()]);
    await Promise.all(Array.from({ length: 60 }, () => a.run()));
    for (let i = 0; i < 3; i++) await b.run();
    await b.startDaemon();
  });
  after(async () => {
    await Promise.all([a.shutdown(), b.shutdown()]);
    await etcd?.stop();
  });

  it('SIGHUP during the startup sync of 60 containers: both run, the result is exact', async () => {
    const daemon = await a.startDaemon(false);
    await daemon.waitForLog('starting', 1, 20_000);
    daemon.signal('SIGHUP');
    await daemon.waitForLog('reconciled', 1, 60_000, (l) => l.reason === 'SIGHUP');
    await assertConverged(etcd, [a, b], { stableMs: 1_000 });
  });

  it('a burst of mixed signals (HUP, USR2, HUP, HUP, USR2, HUP) converges, and the daemon keeps running', async () => {
    const daemon = a.daemon!;
    const refills = daemon.count('reconciled', (l) => l.reason === 'SIGUSR2');
    for (const sig of ['SIGHUP', 'SIGUSR2', 'SIGHUP', 'SIGHUP', 'SIGUSR2', 'SIGHUP'] as const) {
      daemon.signal(sig);
      await sleep(20);
    }
    await daemon.waitForLog('reconciled', refills + 1, 60_000, (l) => l.reason === 'SIGUSR2');
    // A's purges took B's mirror and hamesh keys too (README.md, "Signals"); B's SIGHUP writes them back.
    await sleep(2_000);
    b.daemon!.signal('SIGHUP');
    await assertConverged(etcd, [a, b], { stableMs: 2_000 });
    assert.equal(await Promise.race([daemon.exited, sleep(10).then(() => 'running')]), 'running');
  });

  it('SIGTERM during a SIGUSR2 refill: exit 0, nothing of this host is left, the other host restores its own', async () => {
    const daemon = a.daemon!;
    daemon.signal('SIGUSR2');
    await sleep(150);
    daemon.signal('SIGTERM');
    assert.equal(await daemon.exited, 0);
    const tree = await etcd.tree('/');
    assert.ok(!JSON.stringify(tree).includes(a.host), `nothing of ${a.host} is left`);
    const hups = b.daemon!.count('reconciled', (l) => l.reason === 'SIGHUP');
    b.daemon!.signal('SIGHUP');
    await b.daemon!.waitForLog('reconciled', hups + 1, 30_000, (l) => l.reason === 'SIGHUP');
    assert.deepEqual(await etcd.tree('/'), sorted(await b.expectedTree()));
  });
});
