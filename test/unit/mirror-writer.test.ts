import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { type ContainerState, parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { MirrorWriter } from '../../src/mirror/writer';
import { ID, inspect } from '../fixtures/inspect';
import { baseEntry } from '../fixtures/mirror-entry';
import { silentLogger } from '../support/log';
import { MemoryEtcd } from '../support/memory-etcd';
import { waitFor } from '../support/wait';

const OTHER = 'b'.repeat(64);

/** What MirrorWriter.sync is given for a container: the one place that knows its shape. `null`: Docker answered 404. */
function state(info: ContainerInfo | null): ContainerState {
  return { id: info?.Id ?? ID, container: info && parseContainer(info) };
}

/** MirrorWriter (src/mirror/writer.ts) on the in-memory etcd: exactly what it writes, reads back and repairs. */
describe('MirrorWriter', () => {
  let memory: MemoryEtcd;
  let etcd: Etcd3;
  let calls = 0;
  const txns = () => memory.callsOf('KV.Txn', calls).length;
  const writer = (host = 'h1', onVanished?: (reason: string) => void) =>
    new MirrorWriter(etcd, { dir: 'registry', host, onVanished }, silentLogger);

  before(async () => {
    memory = await MemoryEtcd.start();
    etcd = memory.client();
  });
  after(() => memory.stop());
  beforeEach(async () => {
    await etcd.delete().all();
    calls = memory.calls.length;
  });

  it('writes an active container in one transaction, and nothing when it has not changed', async () => {
    const w = writer();
    await w.loadHeld();
    await w.sync(state(inspect()));
    assert.deepEqual(memory.tree(), baseEntry({}));
    assert.equal(txns(), 1);
    assert.deepEqual(w.stats, { puts: 9, deletes: 0, transactions: 1 });
    await w.sync(state(inspect()));
    assert.equal(txns(), 1, 'an unchanged container costs no write');
    assert.deepEqual([...w.heldIds()], [ID]);
  });

  it('writes only what changed', async () => {
    const w = writer();
    await w.loadHeld();
    await w.sync(state(inspect()));
    const revision = memory.currentRevision;
    await w.sync(state(inspect({ IPAddress: '172.17.0.9' })));
    assert.deepEqual(memory.tree(), baseEntry({}, { ip: '172.17.0.9' }));
    assert.equal(memory.currentRevision, revision + 1);
    const [txn] = memory.callsOf('KV.Txn', calls).slice(-1) as Array<{ success: unknown[] }>;
    assert.equal(txn.success.length, 1, 'one put: the new IP');
  });

  it('removes a container that is gone, also one another process of this host wrote (after loadHeld)', async () => {
    await writer().sync(state(inspect()));
    const w = writer();
    await w.loadHeld();
    assert.deepEqual([...w.heldIds()], [ID]);
    await w.sync(state(null));
    assert.deepEqual(memory.tree(), {});
    assert.deepEqual([...w.heldIds()], []);
  });

  it('removes a container that stopped', async () => {
    const w = writer();
    await w.loadHeld();
    await w.sync(state(inspect()));
    await w.sync(state(inspect({ State: { Status: 'exited', Running: false } })));
    assert.deepEqual(memory.tree(), {});
  });

  it("leaves another host's entry and name alone", async () => {
    await writer('h2').sync(state(inspect({ Id: OTHER, Name: '/fx' })));
    const theirs = memory.tree();
    const w = writer();
    await w.loadHeld();
    await w.sync(state(inspect()));
    await w.sync(state(null));
    assert.deepEqual(memory.tree(), theirs);
    assert.ok(Object.keys(theirs).includes(`/registry/containers/${OTHER}/host`));
  });

  it('self-healing: a held key deleted by someone else is reported; its own removal is not', async (t) => {
    const vanished: string[] = [];
    const w = writer('h1', (reason) => vanished.push(reason));
    t.after(() => w.close());
    await w.loadHeld();
    await w.sync(state(inspect()));
    await etcd.delete().key('/registry/hosts/h1/fx');
    await waitFor('the deletion to be reported', () => vanished.length > 0, 5_000, 5);
    assert.deepEqual(vanished, ['/registry/hosts/h1/fx deleted']);
    // The daemon's answer: a reconciliation, which reads what etcd holds and writes what is missing.
    await w.loadHeld();
    await w.sync(state(inspect()));
    assert.deepEqual(memory.tree(), baseEntry({}), 'written back by the reconciliation');
    // A watcher of the test's on the same client (one watch stream, in order): once it sees the
    // marker's deletion, the writer's watch has had the removal's events before it.
    const marker = await etcd.watch().key('/registry/hosts/h1/marker').create();
    const seen = new Promise((resolve) => marker.on('delete', resolve));
    await w.sync(state(null));
    await etcd.put('/registry/hosts/h1/marker').value('m');
    await etcd.delete().key('/registry/hosts/h1/marker');
    await seen;
    await marker.cancel();
    assert.deepEqual(vanished, ['/registry/hosts/h1/fx deleted'], 'its own deletions are not reported');
    assert.deepEqual(memory.tree(), {});
  });

  it("SIGTERM's removeHostData deletes this host's data only; SIGUSR2's purgeAll the whole mirror", async () => {
    await writer('h2').sync(state(inspect({ Id: OTHER, Name: '/other' })));
    const theirs = memory.tree();
    const w = writer();
    await w.loadHeld();
    await w.sync(state(inspect()));
    await w.removeHostData();
    assert.deepEqual(memory.tree(), theirs);
    await etcd.put('/elsewhere').value('kept');
    await w.purgeAll();
    assert.deepEqual(memory.tree(), { '/elsewhere': 'kept', [`/_registrator/owners/h2/mirror/registry/${OTHER}`]: 'other' });
  });
});
