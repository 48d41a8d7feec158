import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readPrefix } from '../../src/etcd/reads';
import { DockerProxy } from './docker-proxy';
import { EtcdServer } from './etcd';
import { FleetHost, FLEET_URIS } from './fleet';
import { fillFleet, SimulatedFleet, simulatedKeys } from './fleet-fill';
import { withClaimTimes } from './host-claims';
import { waitFor } from './wait';

/** Keys that differ between two trees (missing, extra, other value), at most `limit` of them, for a readable failure. */
function treeDifferences(actual: ReadonlyMap<string, string>, expected: ReadonlyMap<string, string>, limit = 10): string[] {
  const out: string[] = [];
  for (const [key, value] of expected) {
    if (out.length >= limit) return out;
    if (!actual.has(key)) out.push(`missing ${key}`);
    else if (actual.get(key) !== value) out.push(`changed ${key}: ${JSON.stringify(actual.get(key))} instead of ${JSON.stringify(value)}`);
  }
  for (const key of actual.keys()) {
    if (out.length >= limit) return out;
    if (!expected.has(key)) out.push(`extra ${key} = ${JSON.stringify(actual.get(key))}`);
  }
  return out;
}

/**
 * One Docker host (a private dockerd with 5 containers, its registrator with the mirror, hamesh and
 * etcd writers) on an etcd that also holds a simulated fleet of `hosts` other hosts x 100 containers,
 * written as their daemons write them (23 keys a container). What the host does must cost what it
 * holds, and must never touch another host's key. `npm test` runs it on a fleet of 40 hosts
 * (test/integration/fleet-scale.test.ts: every assertion holds at any size, and a fleet of 92,000 keys
 * already costs a reader of it far more than the 64 KiB bound); `npm run test:faults` on 200
 * (test/faults/fleet-scale.test.ts), for the time bounds at the size of a real fleet.
 */
export function fleetScaleSuite(hosts: number): void {
  const keysPerFleet = hosts * 100 * 23;
  const n = (x: number) => x.toLocaleString('en-US');
  describe(`a host on an etcd shared by a fleet of ${hosts} hosts x 100 containers`, { timeout: 900_000 }, () => {
    let etcd: EtcdServer;
    let proxy: DockerProxy;
    const fleet: SimulatedFleet = { hosts, containers: 100, uris: FLEET_URIS };
    const more: SimulatedFleet = { ...fleet, prefix: 'simb' };
    const host = new FleetHost(`fs${process.pid}`, () => etcd.endpoint, []);

    // Read straight into a map: the trees here hold up to twice the fleet's keys.
    const tree = async () => {
      const keys = await readPrefix(etcd.client, '/');
      const claim = `/_registrator/hosts/${host.host}`;
      // The claim's `since` cannot be known beforehand (test/support/host-claims.ts).
      if (keys.has(claim)) keys.set(claim, withClaimTimes({ [claim]: keys.get(claim)! })[claim]);
      return keys;
    };
    const expected = async (fleets: SimulatedFleet[], withHost: boolean) => {
      const keys = new Map<string, string>();
      for (const f of fleets) for (const [k, v] of simulatedKeys(f)) keys.set(k, v);
      if (withHost) for (const [k, v] of Object.entries(await host.expectedTree())) keys.set(k, v);
      return keys;
    };
    const startDaemon = async () => {
      const daemon = await host.startDaemon(false, { EC_REGISTRATOR_DOCKER_SOCKET: proxy.socketPath });
      await daemon.waitForReconciliations(1, 'success', 120_000);
      return daemon;
    };
    /** Sends SIGHUP and resolves once its reconciliation has succeeded. */
    const sighup = async () => {
      await host.daemon!.reconcileOn('SIGHUP', 60_000);
    };
    const revision = async () => Number((await etcd.client.kv.range({ key: Buffer.from('/') })).header.revision);
    /** Every change etcd made after `since`, from its history (a watch from that revision). */
    const changesSince = async (since: number): Promise<Array<{ type: string; key: string }>> => {
      const head = await revision();
      if (head === since) return [];
      const changes: Array<{ type: string; key: string; revision: number }> = [];
      const watcher = await etcd.client
        .watch()
        .prefix('/')
        .startRevision(String(since + 1))
        .create();
      watcher.on('put', (kv) => changes.push({ type: 'put', key: kv.key.toString(), revision: Number(kv.mod_revision) }));
      watcher.on('delete', (kv) => changes.push({ type: 'delete', key: kv.key.toString(), revision: Number(kv.mod_revision) }));
      await waitFor("etcd's history up to now", () => changes.some((c) => c.revision >= head), 30_000, 20);
      await watcher.cancel();
      return changes;
    };
    /** Sends SIGHUP, holds its reconciliation on Docker's list, then sends `stop`: the exit status and how long after the stop signal it came. */
    const stopDuringStuckSighup = async (stop: NodeJS.Signals) => {
      const listed = proxy.requests.length;
      proxy.hold((r) => r.target.includes('/containers/json'));
      host.daemon!.signal('SIGHUP');
      await waitFor(
        'the SIGHUP to ask Docker for its list',
        () => proxy.requests.slice(listed).some((r) => r.target.includes('/containers/json')),
        10_000,
        20,
      );
      const sent = Date.now();
      host.daemon!.signal(stop);
      const code = await host.daemon!.exited;
      const took = Date.now() - sent;
      proxy.release();
      return { code, took };
    };
    /** Bytes etcd sent while one idle SIGHUP reconciliation ran (nothing else talks to it meanwhile). */
    const reconcileBytes = async () => {
      const before = await etcd.sentBytes();
      await sighup();
      return (await etcd.sentBytes()) - before;
    };

    before(async () => {
      etcd = await EtcdServer.start({ quotaBytes: 8 * 1024 ** 3 });
      const [written] = await Promise.all([fillFleet(etcd.client, fleet), host.boot()]);
      assert.equal(written, keysPerFleet, 'per container: 17 mirror keys, and 3 hamesh + 1 etcd keys with their 2 records');
      for (let i = 0; i < 5; i++) await host.run();
      proxy = await DockerProxy.start(host.dockerd.socket);
      await startDaemon();
    });
    after(async () => {
      proxy?.release();
      await host.shutdown();
      await proxy?.stop();
      await etcd?.stop();
    });

    it("converges exactly: its own keys written, every other host's key byte for byte", async () => {
      const want = await expected([fleet], true);
      assert.deepEqual(treeDifferences(await tree(), want), []);
      assert.equal(want.size, keysPerFleet + 5 * 23 + 1, "the fleet's keys, this host's, and its claim");
    });

    it('an idle reconciliation costs etcd the same bytes however much the fleet holds', async (t) => {
      const revision = (await etcd.client.kv.range({ key: Buffer.from('/') })).header.revision;
      const small = await reconcileBytes();
      assert.ok(small < 64 * 1024, `an idle reconciliation of 5 containers cost ${small} bytes`);
      // Twice the fleet.
      await fillFleet(etcd.client, more);
      const large = await reconcileBytes();
      t.diagnostic(
        `bytes etcd sent for an idle reconciliation: ${small} with ${hosts} other hosts (${n(keysPerFleet)} keys), ${large} with ${2 * hosts} (${n(2 * keysPerFleet)} keys)`,
      );
      assert.ok(large <= small * 1.1 + 1024, `idle reconciliation: ${small} bytes with ${hosts} other hosts, ${large} with ${2 * hosts}`);
      // Idle: it wrote nothing at all (only the fill moved the revision).
      const after = (await etcd.client.kv.range({ key: Buffer.from('/') })).header.revision;
      assert.equal(Number(after) - Number(revision), Math.ceil(keysPerFleet / 120), "only the fill's transactions");
    });

    it('SIGINT while a SIGHUP waits on Docker exits 0 within 2 s and leaves every key as it was', async (t) => {
      const before = await revision();
      const { code, took } = await stopDuringStuckSighup('SIGINT');
      t.diagnostic(`SIGINT to exit: ${took} ms`);
      assert.equal(code, 0);
      assert.ok(took < 2_000, `exited ${took} ms after SIGINT`);
      // SIGINT gives the host-name claim up (docs/fleet.md); every key of the data stays.
      assert.deepEqual(
        await changesSince(before),
        [{ type: 'delete', key: `/_registrator/hosts/${host.host}`, revision: before + 1 }],
        'no key but the claim was written or deleted',
      );
    });

    it("SIGTERM while a SIGHUP waits on Docker deletes this host's data within 8 s; every other host's key stays byte for byte", async (t) => {
      await startDaemon();
      const own = new Set(Object.keys(await host.expectedTree()));
      const before = await revision();
      const { code, took } = await stopDuringStuckSighup('SIGTERM');
      t.diagnostic(`SIGTERM to exit: ${took} ms`);
      assert.equal(code, 0);
      assert.ok(took < 8_000, `exited ${took} ms after SIGTERM`);
      // From etcd's history: what changed is exactly the deletion of every key of this host.
      const changes = await changesSince(before);
      assert.deepEqual(
        changes.filter((c) => c.type !== 'delete' || !own.has(c.key)),
        [],
        'no other key was touched',
      );
      assert.deepEqual(
        [...own].filter((k) => !changes.some((c) => c.key === k)),
        [],
        'every key of this host was deleted',
      );
    });
  });
}
