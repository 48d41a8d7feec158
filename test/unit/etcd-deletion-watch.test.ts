import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { DeletionWatch } from '../../src/etcd/deletion-watch';
import { silentLogger } from '../support/log';
import { MemoryEtcd } from '../support/memory-etcd';
import { waitFor } from '../support/wait';

/**
 * DeletionWatch (src/etcd/deletion-watch.ts) on the in-memory etcd: which deletions and puts reach the
 * writer. A key deleted last under a watched prefix is the barrier: etcd sends one stream's events in
 * revision order, so once it is reported every earlier change that was to be reported is too.
 */
describe('DeletionWatch', () => {
  let memory: MemoryEtcd;
  let etcd: Etcd3;
  let deleted: string[];
  let put: string[];
  let watch: DeletionWatch;

  before(async () => {
    memory = await MemoryEtcd.start();
  });
  after(async () => {
    await memory.stop();
  });
  beforeEach(async () => {
    etcd = memory.client();
    await etcd.delete().all();
    deleted = [];
    put = [];
    watch = new DeletionWatch(
      etcd,
      (key) => deleted.push(key),
      silentLogger,
      (key) => put.push(key),
    );
  });

  /** Deletes `key` (put first) and waits until the watch reports it. */
  async function barrier(key: string): Promise<void> {
    await etcd.put(key).value('x');
    await etcd.delete().key(key);
    await waitFor(`${key} reported`, () => deleted.includes(key), 5_000, 5);
  }

  /** Watches until etcd serves every watcher asked for: a key deleted under each is reported. */
  async function watching(prefixes: string[], withPuts = new Set<string>()): Promise<void> {
    watch.watch(prefixes, withPuts);
    for (const prefix of prefixes) await barrier(`${prefix}ready`);
    deleted.length = 0;
    put.length = 0;
  }

  it("reports every deletion under the prefixes it watches, whoever deleted; nothing of another host's keys, no put", async () => {
    await watching(['/registry/owners/h1/', '/services/web/h1:']);
    await etcd.put('/registry/owners/h1/a').value('1');
    await etcd.put('/services/web/h2:x').value('other host');
    await etcd.delete().key('/services/web/h2:x');
    await etcd.delete().key('/registry/owners/h1/a');
    await barrier('/services/web/h1:last');
    assert.deepEqual(deleted, ['/registry/owners/h1/a', '/services/web/h1:last']);
    assert.deepEqual(put, [], 'a prefix watched for deletions only has etcd leave its puts out');
    await watch.close();
  });

  it('a prefix watched with puts reports puts too (claims on hamesh ports): the others still do not', async () => {
    await watching(['/mesh/_claims/80/', '/mesh/web/'], new Set(['/mesh/_claims/80/']));
    await etcd.put('/mesh/_claims/80/other').value('claim');
    await etcd.put('/mesh/web/address').value('10.0.0.1');
    await barrier('/mesh/_claims/80/done');
    assert.deepEqual(put, ['/mesh/_claims/80/other', '/mesh/_claims/80/done']);
    assert.deepEqual(deleted, ['/mesh/_claims/80/done']);
    await watch.close();
  });

  it('watch() again: the prefixes it no longer names are cancelled, the new ones added', async () => {
    await watching(['/a/', '/b/']);
    await watching(['/b/', '/c/']);
    await etcd.put('/a/1').value('x');
    await etcd.delete().key('/a/1');
    await etcd.put('/c/1').value('x');
    await etcd.delete().key('/c/1');
    await barrier('/b/last');
    assert.deepEqual(deleted, ['/c/1', '/b/last']);
    await watch.close();
  });

  it('after close() nothing is reported, and watch() is a no-op', async () => {
    await watching(['/a/']);
    await watch.close();
    watch.watch(['/b/']);
    // Another watch of the same client is the barrier now: it is served on the same stream.
    const other = await etcd.watch().prefix('/').create();
    const seen: string[] = [];
    other.on('delete', (kv) => seen.push(kv.key.toString()));
    await etcd.put('/a/1').value('x');
    await etcd.delete().key('/a/1');
    await etcd.put('/b/1').value('x');
    await etcd.delete().key('/b/1');
    await waitFor('the barrier watch saw both', () => seen.length === 2, 5_000, 5);
    await other.cancel();
    assert.deepEqual(deleted, []);
  });
});
