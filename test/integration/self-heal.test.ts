import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selfHealDelayMs } from '../../src/daemon';
import { EtcdServer } from '../support/etcd';
import { assertConverged, expectedFleetTree, FleetHost } from '../support/fleet';
import { withClaimTimes } from '../support/host-claims';
import { sleep, waitFor } from '../support/wait';

/** Two host names whose self-healing delays lie at least 400 ms apart (each host's delay is fixed by its name). */
function spreadNames(): [string, string] {
  for (let i = 0; ; i++) {
    const a = `ha${process.pid % 1000}x${i}`;
    const b = `hb${process.pid % 1000}x${i}`;
    if (Math.abs(selfHealDelayMs(a) - selfHealDelayMs(b)) >= 400) return [a, b];
  }
}

/** Milliseconds from `since` until `check` first holds, polling every 10 ms. */
async function msUntil(since: number, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  await waitFor('the keys to come back', check, timeoutMs, 10);
  return Date.now() - since;
}

/**
 * Self-healing: two Docker hosts (private engines, 2 containers each) and their registrators on one
 * etcd. When a host's data vanishes behind its back, its daemon sees it through a watch on its own
 * keys and writes it back within 2 s, without any signal; hosts spread their refills by a delay
 * their names fix.
 */
describe("self-healing: data deleted behind a daemon's back comes back without a signal", { timeout: 300_000 }, () => {
  let etcd: EtcdServer;
  const [nameA, nameB] = spreadNames();
  const a = new FleetHost(nameA, () => etcd.endpoint);
  const b = new FleetHost(nameB, () => etcd.endpoint);
  const hosts = [a, b];

  const start = async (h: FleetHost, args: string[] = []) => {
    await h.startDaemon(true, args.includes('--no-self-heal') ? { EC_REGISTRATOR_SELF_HEAL: 'false' } : {});
  };
  const hasHostKeys = (h: FleetHost) => async () => Object.keys(await etcd.tree(`/registry/hosts/${h.host}/`)).length === 2;

  before(async () => {
    etcd = await EtcdServer.start();
    await Promise.all(hosts.map((h) => h.boot()));
    for (const h of hosts) for (let i = 0; i < 2; i++) await h.run();
    await Promise.all(hosts.map((h) => start(h)));
    await assertConverged(etcd, hosts);
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.shutdown()));
    await etcd?.stop();
  });

  it("another host's SIGUSR2 purges everything; the other host writes its data back within 2 s, unasked", async (t) => {
    const bDone = await b.daemon!.reconciliations();
    const sent = Date.now();
    a.daemon!.signal('SIGUSR2');
    const expected = JSON.stringify(await expectedFleetTree(hosts));
    const took = await msUntil(sent, async () => JSON.stringify(withClaimTimes(await etcd.tree('/'))) === expected);
    t.diagnostic(`the whole tree was back ${took} ms after the SIGUSR2`);
    assert.ok(took < 2_000, `the whole tree was back ${took} ms after the purge`);
    assert.ok((await b.daemon!.reconciliations()) > bDone, 'B reconciled, by itself');
    await assertConverged(etcd, hosts, { stableMs: 1_500 });
  });

  it("a hand deletion of hosts/<host>/ is repaired within 2 s; the other host's keys keep their revisions", async () => {
    const aKeys = await etcd.client.getAll().prefix(`/registry/hosts/${a.host}/`).exec();
    const sent = Date.now();
    await etcd.etcdctl(['del', '--prefix', `/registry/hosts/${b.host}/`]);
    const took = await msUntil(sent, hasHostKeys(b));
    assert.ok(took < 2_000, `hosts/${b.host}/ was back after ${took} ms`);
    await assertConverged(etcd, hosts);
    const aAfter = await etcd.client.getAll().prefix(`/registry/hosts/${a.host}/`).exec();
    assert.deepEqual(
      aAfter.kvs.map((kv) => kv.mod_revision),
      aKeys.kvs.map((kv) => kv.mod_revision),
      'A wrote nothing',
    );
  });

  it('a hand deletion of one hamesh service tree and of an etcd:// key is repaired within 2 s', async () => {
    const tree = await etcd.tree('/');
    const meshKey = Object.keys(tree).find((k) => k.startsWith('/mesh/') && k.includes(`/${b.host}:`) && k.endsWith('/address'))!;
    const serviceKey = Object.keys(tree).find((k) => k.startsWith('/services/') && k.includes(`/${a.host}:`))!;
    const sent = Date.now();
    await etcd.etcdctl(['del', '--prefix', meshKey.slice(0, -'address'.length)]);
    await etcd.etcdctl(['del', serviceKey]);
    const expected = JSON.stringify(await expectedFleetTree(hosts));
    const took = await msUntil(sent, async () => JSON.stringify(withClaimTimes(await etcd.tree('/'))) === expected);
    assert.ok(took < 2_000, `repaired after ${took} ms`);
  });

  it('after a purge of everything, the two hosts refill at their own moments, not in the same 100 ms', async (t) => {
    const sent = Date.now();
    await etcd.etcdctl(['del', '--prefix', '/registry/']);
    await etcd.etcdctl(['del', '--prefix', '/mesh/']);
    const [tookA, tookB] = await Promise.all([msUntil(sent, hasHostKeys(a)), msUntil(sent, hasHostKeys(b))]);
    t.diagnostic(
      `refilled after ${tookA} ms (A, delay ${selfHealDelayMs(a.host)} ms) and ${tookB} ms (B, delay ${selfHealDelayMs(b.host)} ms)`,
    );
    assert.ok(Math.abs(tookA - tookB) >= 100, `A refilled after ${tookA} ms, B after ${tookB} ms`);
    assert.ok(tookA < 2_000 && tookB < 2_000, `A after ${tookA} ms, B after ${tookB} ms`);
    // Each no sooner than its own delay.
    assert.ok(tookA >= selfHealDelayMs(a.host) - 20, `A: ${tookA} ms, its delay ${selfHealDelayMs(a.host)} ms`);
    assert.ok(tookB >= selfHealDelayMs(b.host) - 20, `B: ${tookB} ms, its delay ${selfHealDelayMs(b.host)} ms`);
    await assertConverged(etcd, hosts);
  });

  it('with --no-self-heal (EC_REGISTRATOR_SELF_HEAL=false) nothing comes back by itself; SIGHUP still brings it back', async () => {
    b.daemon!.signal('SIGINT');
    assert.equal(await b.daemon!.exited, 0);
    await start(b, ['--no-self-heal']);
    await etcd.etcdctl(['del', '--prefix', `/registry/hosts/${b.host}/`]);
    await sleep(2_500);
    assert.deepEqual(await etcd.tree(`/registry/hosts/${b.host}/`), {}, 'still gone');
    b.daemon!.signal('SIGHUP');
    await waitFor('the SIGHUP to restore it', hasHostKeys(b), 10_000, 20);
    await assertConverged(etcd, hosts);
  });
});
