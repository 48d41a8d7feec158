import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DaemonProcess } from '../support/daemon';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import { CLAIMS_PREFIX, expectedClaim, withClaimTimes } from '../support/host-claims';
import { sleep, waitFor } from '../support/wait';

const HOST = 'clone';
const CLAIM = `${CLAIMS_PREFIX}${HOST}`;
const CONFLICT_LOG = 'host name claimed by another daemon of another engine: writing and deleting nothing';

/** Every key etcd holds with its value, revisions and lease, and etcd's current revision. */
async function kvState(etcd: EtcdServer): Promise<{ revision: string; kvs: string[] }> {
  const res = await etcd.client.kv.range({ key: Buffer.from('\0'), range_end: Buffer.from('\0') });
  const kvs = res.kvs.map((kv) =>
    JSON.stringify([kv.key.toString(), kv.value.toString(), kv.create_revision, kv.mod_revision, kv.version, String(kv.lease)]),
  );
  return { revision: String(res.header.revision), kvs };
}

/** Waits until the daemon's /healthz says its host name is claimed by another daemon. */
async function waitForConflict(daemon: DaemonProcess): Promise<void> {
  await waitFor(
    'the second daemon to judge its claim a conflict',
    async () => (await daemon.health()).body.hostClaim?.state === 'conflict',
    20_000,
    100,
  );
}

/**
 * Two Docker hosts whose daemons share one host name (cloned VMs): two private engines, one etcd.
 * The first daemon to claim the name keeps it; the other writes and deletes nothing until the
 * claim ends, and says so.
 */
describe('one daemon per host name: two engines, two daemons, one host name', { timeout: 180_000 }, () => {
  let etcd: EtcdServer;
  const a = new FleetHost(HOST, () => etcd.endpoint, [], `srhca${process.pid}`);
  const b = new FleetHost(HOST, () => etcd.endpoint, [], `srhcb${process.pid}`);

  before(async () => {
    etcd = await EtcdServer.start();
    await Promise.all([a.boot(), b.boot()]);
    await a.run({ name: 'web' });
    await b.run({ name: 'api' });
    await a.startDaemon();
    await assertConverged(etcd, [a], { timeoutMs: 20_000 });
  });
  after(async () => {
    await Promise.all([a.shutdown(), b.shutdown()]);
    await etcd?.stop();
  });

  it("the second changes not one key of the first's, etcd's revision stays still, its /healthz is 503 with the holder", async () => {
    const before = await kvState(etcd);
    await b.startDaemon(false);
    await waitForConflict(b.daemon!);
    const held = await kvState(etcd);
    await sleep(3_000);
    const later = await kvState(etcd);
    assert.equal(later.revision, held.revision, "etcd's revision stays still while both run");
    assert.equal(held.revision, before.revision, 'the second daemon wrote nothing at all');
    assert.deepEqual(later.kvs, before.kvs, 'every key, value, revision and lease as before');

    const claim = (await etcd.tree(CLAIM))[CLAIM];
    assert.equal(withClaimTimes({ [CLAIM]: claim })[CLAIM], expectedClaim(HOST, await a.engineIdentity(), a.daemon!.pid));
    const health = await b.daemon!.health();
    const engineA = await a.engineIdentity();
    const engineB = await b.engineIdentity();
    assert.notEqual(engineA.id, engineB.id);
    assert.equal(health.code, 503);
    assert.equal(health.body.status, 'conflict');
    assert.equal(health.body.docker, 'connected');
    assert.deepEqual(health.body.hostClaim, {
      state: 'conflict',
      host: HOST,
      holder: JSON.parse(claim),
      reason: health.body.reason,
    });
    assert.match(
      health.body.reason ?? '',
      new RegExp(`host name ${HOST} is claimed by another daemon: engine ${engineA.name} \\(ID ${engineA.id}\\)`),
    );
    assert.equal(await b.daemon!.metric('registrator_host_name_conflict'), 1);
    assert.equal(await b.daemon!.metric('registrator_host_claim_held'), 0);
    const first = await a.daemon!.health();
    assert.equal(first.code, 200);
    assert.deepEqual(first.body.hostClaim, { state: 'held', host: HOST });
    assert.equal(await a.daemon!.metric('registrator_host_claim_held'), 1);
    assert.equal(await a.daemon!.metric('registrator_host_name_conflict'), 0);

    // One error, naming the host name and both engines, and what to do.
    const said = b.daemon!.lines.filter((l) => l.message === CONFLICT_LOG);
    assert.equal(said.length, 1, 'the conflict is logged once');
    assert.equal(said[0].level, 'error');
    assert.equal(said[0].host, HOST);
    assert.match(String(said[0].ours), new RegExp(`engine ${engineB.name} \\(ID ${engineB.id}\\)`));
    assert.match(String(said[0].theirs), new RegExp(`engine ${engineA.name} \\(ID ${engineA.id}\\)`));
    assert.match(String(said[0].todo), /EC_REGISTRATOR_HOST/);
  });

  it('the daemon in conflict: its SIGTERM deletes nothing and it exits 0', async () => {
    const before = await kvState(etcd);
    b.daemon!.signal('SIGTERM');
    assert.equal(await b.daemon!.exited, 0);
    assert.deepEqual(await kvState(etcd), before);
    await b.startDaemon(false);
    await waitForConflict(b.daemon!);
    assert.deepEqual(await kvState(etcd), before);
  });

  it("after the first's SIGTERM, the second takes over within 5 s: its keys written, the first's gone", async (t) => {
    a.daemon!.signal('SIGTERM');
    assert.equal(await a.daemon!.exited, 0);
    const sent = Date.now();
    await assertConverged(etcd, [b], { timeoutMs: 5_000 });
    const took = Date.now() - sent;
    t.diagnostic(`the second daemon's tree was exact ${took} ms after the first's SIGTERM`);
    assert.ok(took < 5_000, `took over after ${took} ms`);
    await b.daemon!.waitUntilHealthy(5_000);
    assert.deepEqual((await b.daemon!.health()).body.hostClaim, { state: 'held', host: HOST });
    assert.equal(await b.daemon!.metric('registrator_host_name_conflict'), 0);
  });

  it("after the holder's SIGKILL, the other takes over within the claim's lease (10 s)", async (t) => {
    await a.startDaemon(false);
    await waitForConflict(a.daemon!);
    b.daemon!.signal('SIGKILL');
    await b.daemon!.exited;
    const killed = Date.now();
    // The killed daemon's keys stay until the waiting one holds the name and reconciles them away.
    await assertConverged(etcd, [a], { timeoutMs: 13_000 });
    const took = Date.now() - killed;
    t.diagnostic(`the waiting daemon's tree was exact ${took} ms after the holder's SIGKILL`);
    assert.ok(took < 12_000, `took over after ${took} ms, the lease is 10 s`);
    await a.daemon!.waitUntilHealthy(5_000);
  });

  it('a daemon SIGKILLed and started again on the same engine writes at once, well within the lease', async (t) => {
    a.daemon!.signal('SIGKILL');
    await a.daemon!.exited;
    // A change while no daemon runs: the restarted one must write it, which it does only once it holds the name.
    await a.run({ name: 'late' });
    const started = Date.now();
    await a.startDaemon(false);
    await assertConverged(etcd, [a], { timeoutMs: 8_000 });
    const took = Date.now() - started;
    t.diagnostic(`the restarted daemon's tree was exact ${took} ms after its start`);
    assert.ok(took < 5_000, `wrote after ${took} ms, the lease is 10 s`);
    assert.equal(a.daemon!.count(CONFLICT_LOG), 0, 'its own engine is no other daemon');
  });
});
