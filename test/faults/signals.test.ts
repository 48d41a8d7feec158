import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import type { DaemonProcess } from '../support/daemon';
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

  /** Waits until the daemon has finished at least `n` reconciliations and finishes no more for 1.5 s. */
  async function settledReconciliations(daemon: DaemonProcess, n: number): Promise<void> {
    let last = await daemon.waitForReconciliations(n, 'success', 60_000);
    for (let quietSince = Date.now(); Date.now() - quietSince < 1_500; await sleep(100)) {
      const now = await daemon.reconciliations();
      if (now !== last) [last, quietSince] = [now, Date.now()];
    }
  }

  it('SIGHUP during the startup sync of 60 containers: both run, the result is exact', async () => {
    const daemon = await a.startDaemon(false);
    // The first write: the startup sync is under way.
    await daemon.waitForMetric('registrator_writes_total', {}, 1, 20_000);
    daemon.signal('SIGHUP');
    // The startup reconciliation and the SIGHUP's, both successful.
    await daemon.waitForReconciliations(2, 'success', 60_000);
    await assertConverged(etcd, [a, b], { stableMs: 1_000 });
  });

  it('a burst of mixed signals (HUP, USR2, HUP, HUP, USR2, HUP) converges, and the daemon keeps running', async () => {
    const daemon = a.daemon!;
    const before = await daemon.reconciliations();
    for (const sig of ['SIGHUP', 'SIGUSR2', 'SIGHUP', 'SIGHUP', 'SIGUSR2', 'SIGHUP'] as const) {
      daemon.signal(sig);
      await sleep(20);
    }
    // Handled in order, not interleaved (README.md, "Signals"): done once A's reconciliations stop
    // counting, after at least the two refills.
    await settledReconciliations(daemon, before + 2);
    // A's purges took B's mirror and hamesh keys too; B heals itself, and a SIGHUP writes them back too.
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
    b.daemon!.signal('SIGHUP');
    await assertConverged(etcd, [b], { stableMs: 1_000 });
  });
});
