import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Health } from '../support/daemon';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import { TcpProxy } from '../support/tcp-proxy';
import { sleep } from '../support/wait';

/** What /healthz answered, every 20 ms, until stopped: a repair is seen while it runs. */
function sampleHealth(read: () => Promise<Health>): { stop(): Promise<Health[]> } {
  const seen: Health[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      await read().then(
        (h) => seen.push(h),
        () => undefined,
      );
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/**
 * etcd's history changes under a running daemon (TESTING.md, "etcd history faults"): restored from
 * a snapshot, rebuilt empty, compacted while the daemon was cut off. Each time the daemon notices by
 * itself, with no signal, and the whole tree is exact again within 5 s. The daemon reaches etcd
 * through a TCP proxy of the test's own, so the test can cut it off while its own client is not.
 */
describe('etcd history changes under the daemon: it repairs the whole tree within 5 s, unasked', { timeout: 180_000 }, () => {
  let etcd: EtcdServer;
  let proxy: TcpProxy;
  const work = mkdtempSync(join(tmpdir(), 'sr-history-'));
  const h = new FleetHost(`hist${process.pid}`, () => proxy.endpoint);

  /** The ID of the cluster at the endpoint now (etcd derives it from the members' names, peer URLs and cluster token). */
  const clusterId = async () => String((await etcd.client.kv.range({ key: Buffer.from('/') })).header.cluster_id);
  let FIRST_CLUSTER: string;

  before(async () => {
    etcd = await EtcdServer.start();
    FIRST_CLUSTER = await clusterId();
    proxy = await TcpProxy.start(etcd.port);
    await h.boot();
    await h.run({ name: 'web' });
    await h.run({ name: 'old' });
    await h.startDaemon();
    await assertConverged(etcd, [h], { timeoutMs: 20_000 });
    await h.daemon!.waitUntilHealthy();
  });
  after(async () => {
    await h.shutdown();
    await proxy?.close();
    await etcd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs `change` on etcd, then waits (5 s at most) for the whole tree to be exact; checks /healthz showed the repair and ends 200. */
  async function repaired(t: TestContext, kind: 'cluster' | 'revision' | 'compacted', change: () => Promise<void>): Promise<void> {
    const daemon = h.daemon!;
    const changes = await daemon.metric('registrator_etcd_history_changes_total', { kind });
    const logged = daemon.lines.length;
    const sampler = sampleHealth(() => daemon.health());
    try {
      await change();
      const changed = Date.now();
      await assertConverged(etcd, [h], { timeoutMs: 5_000 });
      const took = Date.now() - changed;
      t.diagnostic(`the whole tree was exact ${took} ms after the change`);
      assert.ok(took < 5_000, `exact after ${took} ms`);
      await daemon.waitUntilHealthy(5_000);
      const seen = await sampler.stop();
      const recovering = seen.find((s) => s.body.status === 'recovering');
      assert.ok(recovering, `/healthz showed the repair; seen: ${[...new Set(seen.map((s) => s.body.status))].join(', ')}`);
      assert.equal(recovering.code, 503);
      assert.equal(recovering.body.etcdHistory?.state, 'recovering');
      assert.equal(recovering.body.etcdHistory?.last?.kind, kind);
      assert.match(recovering.body.reason ?? '', /^etcd history changed/);
      assert.equal(await daemon.metric('registrator_etcd_history_changes_total', { kind }), changes + 1);
      assert.equal(await daemon.metric('registrator_etcd_history_recovering'), 0);
      assert.equal((await daemon.health()).body.etcdHistory?.state, 'steady');
      assert.equal(daemon.count('handling signal'), 0, 'the daemon was sent no signal');
    } catch (err) {
      t.diagnostic(
        `the daemon's log since the change:\n${daemon.lines
          .slice(logged)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
      throw err;
    } finally {
      await sampler.stop();
    }
  }

  it('etcd rebuilt empty at the same endpoint (the same member and token: the same cluster ID, revision 1)', async (t) => {
    await repaired(t, 'revision', () => etcd.rebuildEmpty());
    assert.equal(await clusterId(), FIRST_CLUSTER);
  });

  it('etcd restored from a snapshot taken before one container started and another was removed', async (t) => {
    const snap = join(work, 'before.db');
    await etcd.snapshot(snap);
    const [old] = (await h.running()).filter((c) => c.Name === '/old');
    await h.run({ name: 'new' });
    await h.docker(['rm', '-f', old.Id]);
    await assertConverged(etcd, [h], { timeoutMs: 10_000 });
    // The restored etcd holds `old` (gone since) and lacks `new` (started since): both must be put right.
    const cluster = await clusterId();
    // A cluster token of its own gives the restored cluster a new ID, as a restore into another cluster has.
    await repaired(t, 'cluster', () => etcd.restoreFrom(snap, `restored-${process.pid}`));
    assert.notEqual(await clusterId(), cluster);
  });

  it('the daemon cut off from etcd while its key is deleted and etcd is compacted past that revision', async (t) => {
    const key = `/registry/hosts/${h.host}/web`;
    await repaired(t, 'compacted', async () => {
      proxy.cut();
      await etcd.client.delete().key(key);
      await etcd.client.put(`/scratch/${h.host}`).value('x');
      await etcd.client.delete().key(`/scratch/${h.host}`);
      const revision = (await etcd.client.kv.range({ key: Buffer.from(key) })).header.revision;
      await etcd.etcdctl(['compact', String(revision), '--physical']);
      assert.equal((await etcd.tree(key))[key], undefined);
      proxy.mend();
    });
  });
});
