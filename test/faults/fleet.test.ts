import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EtcdCluster } from '../support/etcd-cluster';
import { assertConverged, FleetHost, FLEET_URIS } from '../support/fleet';
import { withClaimTimes } from '../support/host-claims';
import { fillFleet, SimulatedFleet, simulatedKeys } from '../support/fleet-fill';
import { sorted } from '../support/mirror';
import { sleep } from '../support/wait';

const exec = promisify(execFile);

/** The etcd member (index) a process holds an established connection to, from `ss`. */
async function memberInUse(cluster: EtcdCluster, pid: number): Promise<number | undefined> {
  const { stdout } = await exec('ss', ['-Htnp', 'state', 'established']);
  for (const line of stdout.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const peer = line.trim().split(/\s+/)[3] ?? '';
    const member = cluster.memberByPort(Number(peer.split(':').pop()));
    if (member !== undefined) return member;
  }
  return undefined;
}

/** Only the keys of one host (mirror entries carry its name; services and records their ID prefix; its claim). */
function ofHost(tree: Record<string, string>, host: string): Record<string, string> {
  const containers = new Set(
    Object.entries(tree)
      .filter(([k, v]) => k.endsWith('/host') && k.startsWith('/registry/containers/') && v === host)
      .map(([k]) => k.split('/')[3]),
  );
  return sorted(
    Object.fromEntries(
      Object.entries(tree).filter(([k]) => {
        const parts = k.split('/');
        if (k.startsWith('/registry/containers/')) return containers.has(parts[3]);
        if (k.startsWith('/registry/labels/')) return containers.has(parts[parts.length - 1]);
        if (k.startsWith('/registry/hosts/')) return parts[3] === host;
        if (k.startsWith('/_registrator/owners/')) return parts[3] === host;
        if (k.startsWith('/_registrator/hosts/')) return parts[3] === host;
        return k.includes(`/${host}:`);
      }),
    ),
  );
}

/** 200 other hosts x 10 containers, as their daemons write them (46,000 keys): the two real hosts share the cluster with them. */
const SIMULATED: SimulatedFleet = { hosts: 200, containers: 10, uris: FLEET_URIS };

/** What the simulated fleet holds: everything, or after a SIGUSR2 what lies outside the purged prefixes (mirror, hamesh). */
function simulated(purged = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of simulatedKeys(SIMULATED))
    if (!purged || !(key.startsWith('/registry/') || key.startsWith('/mesh/'))) out[key] = value;
  return out;
}

describe(
  'a fleet: two Docker hosts and two registrators on one 3-member etcd cluster, with 200 simulated hosts',
  { timeout: 600_000 },
  () => {
    let cluster: EtcdCluster;
    const work = mkdtempSync(join(tmpdir(), 'sr-fleet-'));
    const a = new FleetHost(`fa${process.pid}`, () => cluster.endpoints);
    const b = new FleetHost(`fb${process.pid}`, () => cluster.endpoints);
    let others = simulated();
    const extra = () => others;

    before(async () => {
      cluster = await EtcdCluster.start(3);
      await fillFleet(cluster.client, SIMULATED);
      await Promise.all([a.boot(), b.boot()]);
      for (let i = 0; i < 3; i++) {
        await a.run();
        await b.run();
      }
      await Promise.all([a.startDaemon(), b.startDaemon()]);
    });
    after(async () => {
      await Promise.all([a.shutdown(), b.shutdown()]);
      await cluster?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it("converges to both hosts' exact state; the simulated hosts' keys byte for byte", async () => {
      const tree = await assertConverged(cluster, [a, b], { extra });
      // Per host its claim; per container: mirror 7 fields + host key + index record + 4 port keys + 2 labels x 2 keys = 17; services 3 hamesh + 1 etcd + 2 records = 6.
      assert.equal(Object.keys(ofHost(tree, a.host)).length, 3 * 23 + 1);
      assert.equal(Object.keys(ofHost(tree, b.host)).length, 3 * 23 + 1);
    });

    it("SIGTERM on one host deletes its data and leaves the other's byte for byte", async () => {
      const before = await cluster.tree('/');
      const bBefore = ofHost(before, b.host);
      a.daemon!.signal('SIGTERM');
      assert.equal(await a.daemon!.exited, 0);
      const tree = await cluster.tree('/');
      assert.deepEqual(tree, sorted({ ...bBefore, ...others }), "only host B's and the simulated hosts' keys are left, unchanged");
      await a.startDaemon();
      await assertConverged(cluster, [a, b], { extra });
    });

    it("SIGUSR2 on one host purges every host's mirror and hamesh data; the other real host writes its own back by itself", async () => {
      const sent = Date.now();
      a.daemon!.signal('SIGUSR2');
      // The mirror and hamesh prefixes are purged for every host; etcd:// registrations and ownership
      // records are not. A refills; B sees its keys go through its watches and refills within 2 s,
      // unasked; the simulated hosts (no daemon runs for them) keep what lies outside the purge.
      others = simulated(true);
      await assertConverged(cluster, [a, b], { extra, timeoutMs: 10_000, stableMs: 1_500 });
      assert.ok(Date.now() - sent < 10_000);
      assert.ok(b.daemon!.count("this host's data was deleted from etcd; writing it back") >= 1, 'B healed itself');
      assert.equal(b.daemon!.count('handling signal'), 0, 'B was sent no signal');
    });

    it("SIGKILL one host, churn its containers, restart it: its stale data is gone, the other's untouched", async () => {
      // As assertConverged gives the tree: claims with their since left out.
      const bBefore = ofHost(withClaimTimes(await cluster.tree('/')), b.host);
      a.daemon!.signal('SIGKILL');
      await a.daemon!.exited;
      const aRunning = await a.running();
      await a.docker(['rm', '-f', aRunning[0].Id]);
      await a.docker(['stop', '-t', '0', aRunning[1].Id]);
      await a.run();
      await a.run();
      await a.startDaemon();
      const tree = await assertConverged(cluster, [a, b], { extra });
      assert.deepEqual(ofHost(tree, b.host), bBefore, "B's keys are byte for byte what they were");
      assert.ok(
        !JSON.stringify(tree).includes(aRunning[0].Id) && !JSON.stringify(tree).includes(aRunning[1].Id),
        'the removed and stopped containers left nothing',
      );
      await a.docker(['rm', aRunning[1].Id]);
    });

    it('kill the etcd member a daemon talks to: it fails over to the others and converges; the member rejoins', async () => {
      const member = await memberInUse(cluster, a.daemon!.pid);
      assert.notEqual(member, undefined, 'the daemon holds a connection to one member');
      await cluster.kill(member!);
      // Changes while the member is down reach etcd through the other two.
      const started = await a.run();
      const stopped = (await a.running()).find((c) => c.Id !== started)!;
      await a.docker(['stop', '-t', '0', stopped.Id]);
      await b.run();
      await assertConverged(cluster, [a, b], { timeoutMs: 60_000, extra });
      assert.notEqual(await memberInUse(cluster, a.daemon!.pid), member);
      await cluster.launch(member!);
      await b.run();
      await assertConverged(cluster, [a, b], { stableMs: 1_000, extra });
      await a.docker(['rm', stopped.Id]);
    });

    it('the cluster restored from a snapshot taken before containers changed: both real hosts exact within 5 s, unasked; the simulated fleet as restored', async (t) => {
      const snap = join(work, 'cluster.db');
      await cluster.snapshot(snap);
      // After the snapshot: one container more on A, one fewer on B; the restored cluster lacks the one and still holds the other.
      await a.run();
      const gone = (await b.running())[0];
      await b.docker(['rm', '-f', gone.Id]);
      await assertConverged(cluster, [a, b], { extra });
      const changes = await Promise.all([a, b].map((h) => h.daemon!.metric('registrator_etcd_history_changes_total', { kind: 'cluster' })));
      const signals = [a, b].map((h) => h.daemon!.count('handling signal'));
      await cluster.restoreFrom(snap);
      const restored = Date.now();
      const tree = await assertConverged(cluster, [a, b], { extra, timeoutMs: 5_000 });
      const took = Date.now() - restored;
      t.diagnostic(`the whole tree was exact ${took} ms after the restored cluster answered`);
      assert.ok(took < 5_000, `exact after ${took} ms`);
      assert.ok(!JSON.stringify(tree).includes(gone.Id), 'the container removed after the snapshot left nothing');
      for (const [i, h] of [a, b].entries()) {
        assert.equal(await h.daemon!.metric('registrator_etcd_history_changes_total', { kind: 'cluster' }), changes[i] + 1);
        assert.equal(h.daemon!.count('handling signal'), signals[i], `${h.host} was sent no signal`);
      }
    });

    it('neither daemon logged an error it did not recover from, and both still run', async () => {
      await sleep(200);
      for (const h of [a, b]) {
        assert.equal(h.daemon!.count('start failed'), 0);
        assert.equal(h.daemon!.count('giving up'), 0);
        assert.equal(h.daemon!.count('unhandled rejection'), 0);
        assert.equal(await Promise.race([h.daemon!.exited, sleep(10).then(() => 'running')]), 'running');
      }
    });
  },
);
