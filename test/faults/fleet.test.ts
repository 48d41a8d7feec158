import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { EtcdCluster } from '../support/etcd-cluster';
import { assertConverged, FleetHost } from '../support/fleet';
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

/** Only the keys of one host (mirror entries carry its name; services and records their ID prefix). */
function ofHost(tree: Record<string, string>, host: string): Record<string, string> {
  const containers = new Set(Object.entries(tree).filter(([k, v]) => k.endsWith('/host') && k.startsWith('/registry/containers/') && v === host).map(([k]) => k.split('/')[3]));
  return sorted(
    Object.fromEntries(
      Object.entries(tree).filter(([k]) => {
        const parts = k.split('/');
        if (k.startsWith('/registry/containers/')) return containers.has(parts[3]);
        if (k.startsWith('/registry/labels/')) return containers.has(parts[parts.length - 1]);
        if (k.startsWith('/registry/hosts/')) return parts[3] === host;
        if (k.startsWith('/_registrator/owners/')) return parts[3] === host;
        return k.includes(`/${host}:`);
      }),
    ),
  );
}

describe('a fleet: two Docker hosts and two registrators on one 3-member etcd cluster', { timeout: 600_000 }, () => {
  let cluster: EtcdCluster;
  const a = new FleetHost(`fa${process.pid}`, () => cluster.endpoints);
  const b = new FleetHost(`fb${process.pid}`, () => cluster.endpoints);

  before(async () => {
    cluster = await EtcdCluster.start(3);
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
  });

  it('converges to both hosts\' exact state', async () => {
    const tree = await assertConverged(cluster, [a, b]);
    // Per container: mirror 7 fields + host key + 4 port keys + 2 labels x 2 keys = 16; services 3 hamesh + 1 etcd + 2 records = 6.
    assert.equal(Object.keys(ofHost(tree, a.host)).length, 3 * 22);
    assert.equal(Object.keys(ofHost(tree, b.host)).length, 3 * 22);
  });

  it('SIGTERM on one host deletes its data and leaves the other\'s byte for byte', async () => {
    const before = await cluster.tree('/');
    const bBefore = ofHost(before, b.host);
    a.daemon!.signal('SIGTERM');
    assert.equal(await a.daemon!.exited, 0);
    const tree = await cluster.tree('/');
    assert.deepEqual(tree, bBefore, 'only host B\'s keys are left, unchanged');
    await a.startDaemon();
    await assertConverged(cluster, [a, b]);
  });

  it('SIGUSR2 on one host purges everything; SIGHUP on the other restores both', async () => {
    a.daemon!.signal('SIGUSR2');
    // A's refill brings back its own keys; B's are gone until B reconciles.
    await a.daemon!.waitForLog('reconciled', 1, 30_000, (l) => l.reason === 'SIGUSR2');
    // SPEC §4: the mirror and hamesh prefixes are purged for every host; etcd:// registrations and
    // ownership records are not (B finds its hamesh services gone and writes them again on SIGHUP).
    const bUnpurged = Object.fromEntries(Object.entries(await b.expectedTree()).filter(([k]) => !k.startsWith('/registry/') && !k.startsWith('/mesh/')));
    assert.deepEqual(await cluster.tree('/'), sorted({ ...(await a.expectedTree()), ...bUnpurged }), 'A wrote back exactly its own; B keeps only what is outside the purged prefixes');
    b.daemon!.signal('SIGHUP');
    await b.daemon!.waitForLog('reconciled', 1, 30_000, (l) => l.reason === 'SIGHUP');
    await assertConverged(cluster, [a, b]);
  });

  it('SIGKILL one host, churn its containers, restart it: its stale data is gone, the other\'s untouched', async () => {
    const bBefore = ofHost(await cluster.tree('/'), b.host);
    a.daemon!.signal('SIGKILL');
    await a.daemon!.exited;
    const aRunning = await a.running();
    await a.docker(['rm', '-f', aRunning[0].Id]);
    await a.docker(['stop', '-t', '0', aRunning[1].Id]);
    await a.run();
    await a.run();
    await a.startDaemon();
    const tree = await assertConverged(cluster, [a, b]);
    assert.deepEqual(ofHost(tree, b.host), bBefore, 'B\'s keys are byte for byte what they were');
    assert.ok(!JSON.stringify(tree).includes(aRunning[0].Id) && !JSON.stringify(tree).includes(aRunning[1].Id), 'the removed and stopped containers left nothing');
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
    await assertConverged(cluster, [a, b], { timeoutMs: 60_000 });
    assert.notEqual(await memberInUse(cluster, a.daemon!.pid), member);
    await cluster.launch(member!);
    await b.run();
    await assertConverged(cluster, [a, b], { stableMs: 1_000 });
    await a.docker(['rm', stopped.Id]);
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
});
