import { noop } from 'cockatiel';
import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Etcd3, EtcdLeaseInvalidError, GRPCUnavailableError } from 'etcd3';
import { commitAtomic, commitSplit } from '../../src/etcd/commit';
import { TransactionTooLargeError } from '../../src/etcd/errors';
import { KeyOp, MAX_ATOMIC_OPS } from '../../src/etcd/key-ops';
import { MemoryEtcd } from '../support/memory-etcd';

/** The commit batcher (src/etcd/commit.ts) on the in-memory etcd: what reaches etcd, and what each caller is answered. */
describe('commit batcher', () => {
  let memory: MemoryEtcd;
  let etcd: Etcd3;
  let calls = 0;
  const txns = () => memory.callsOf('KV.Txn', calls).length;
  const puts = (prefix: string, n: number): KeyOp[] => Array.from({ length: n }, (_, i) => ({ put: `${prefix}${i}`, value: `v${i}` }));

  before(async () => {
    memory = await MemoryEtcd.start();
    // No retries: a refusal reaches the batcher as etcd gave it.
    etcd = memory.client({ faultHandling: { host: () => noop, global: noop } });
  });
  after(() => memory.stop());
  beforeEach(() => {
    calls = memory.calls.length;
  });

  it('merges the transactions of one moment into one, each caller answered with its revision', async () => {
    const revision = memory.currentRevision;
    const answers = await Promise.all([
      commitAtomic(etcd, [{ put: '/m/a', value: '1' }]),
      commitAtomic(etcd, [
        { put: '/m/b', value: '2' },
        { put: '/m/c', value: '3' },
      ]),
      commitSplit(etcd, [{ delete: '/m/none' }]),
    ]);
    assert.deepEqual(answers, [String(revision + 1), String(revision + 1), 1]);
    assert.equal(txns(), 1, 'one transaction for the three');
    assert.deepEqual(memory.tree('/m/'), { '/m/a': '1', '/m/b': '2', '/m/c': '3' });
  });

  it('keeps apart transactions that touch the same key, or a key under a deleted prefix', async () => {
    await Promise.all([
      commitAtomic(etcd, [{ put: '/s/a', value: '1' }]),
      commitAtomic(etcd, [{ put: '/s/a', value: '2' }]),
      commitAtomic(etcd, [{ deletePrefix: '/s/' }]),
      commitAtomic(etcd, [{ put: '/s/b', value: '3' }]),
    ]);
    assert.equal(txns(), 4, 'each one alone: a=1, a=2, the prefix deletion, b=3 under that prefix');
    assert.deepEqual(memory.tree('/s/'), { '/s/b': '3' });
  });

  it('a merged transaction refused for a lost lease is sent again part by part: only the part with the lease fails', async () => {
    const lease = (await etcd.leaseClient.leaseGrant({ TTL: 10 })).ID;
    await etcd.leaseClient.leaseRevoke({ ID: lease });
    const [leased, plain, other] = await Promise.allSettled([
      commitAtomic(etcd, [{ put: '/l/leased', value: 'x', lease }]),
      commitAtomic(etcd, [{ put: '/l/plain', value: 'y' }]),
      commitAtomic(etcd, [{ delete: '/l/none' }]),
    ]);
    assert.equal(leased.status, 'rejected');
    assert.ok((leased as PromiseRejectedResult).reason instanceof EtcdLeaseInvalidError);
    assert.deepEqual([plain.status, other.status], ['fulfilled', 'fulfilled']);
    assert.equal(txns(), 4, 'the merged one, then each part alone');
    assert.deepEqual(memory.tree('/l/'), { '/l/plain': 'y' });
  });

  it('a merged transaction that cannot reach etcd fails every part with that error, and is not sent again', async () => {
    memory.failNext('KV.Txn', status.UNAVAILABLE, 'connection refused');
    const results = await Promise.allSettled([
      commitAtomic(etcd, [{ put: '/u/a', value: '1' }]),
      commitAtomic(etcd, [{ put: '/u/b', value: '2' }]),
    ]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof GRPCUnavailableError);
    }
    assert.equal(txns(), 1);
    assert.deepEqual(memory.tree('/u/'), {});
  });

  it('more than 128 ops in one transaction: nested groups, one revision, all or nothing', async () => {
    const revision = memory.currentRevision;
    assert.equal(await commitAtomic(etcd, puts('/n/', 500)), String(revision + 1));
    assert.equal(txns(), 1);
    assert.equal(Object.keys(memory.tree('/n/')).length, 500);
  });

  it('a transaction too large is refused before anything is sent (too many keys, too many bytes)', async () => {
    await assert.rejects(
      commitAtomic(etcd, puts('/big/', MAX_ATOMIC_OPS + 1)),
      (err: Error) => err instanceof TransactionTooLargeError && /4033 keys, more than the 4032/.test(err.message),
    );
    await assert.rejects(
      commitAtomic(etcd, [{ put: '/big/v', value: 'x'.repeat(1024 * 1024) }]),
      (err: Error) => err instanceof TransactionTooLargeError && /bytes of keys and values/.test(err.message),
    );
    assert.equal(txns(), 0);
    assert.deepEqual(memory.tree('/big/'), {});
  });

  it('commitSplit sends what does not fit in one transaction as several, all at once', async () => {
    await commitAtomic(etcd, puts('/d/', 300));
    calls = memory.calls.length;
    const ops: KeyOp[] = Array.from({ length: 300 }, (_, i) => ({ delete: `/d/${i}` }));
    assert.equal(await commitSplit(etcd, ops), 3);
    assert.equal(txns(), 3);
    assert.deepEqual(memory.tree('/d/'), {});
  });

  it('guarded deletions: each deletes only while its value or revision holds, inside the merged transaction', async () => {
    await commitAtomic(etcd, [
      { put: '/g/value', value: 'mine' },
      { put: '/g/other', value: 'theirs' },
      { put: '/g/rev', value: 'r' },
      { put: '/g/moved', value: 'm' },
    ]);
    const modRevision = String(memory.currentRevision);
    await commitAtomic(etcd, [{ put: '/g/moved', value: 'written again' }]);
    calls = memory.calls.length;
    await Promise.all([
      commitAtomic(etcd, [{ delete: '/g/value', ifValue: 'mine' }]),
      commitAtomic(etcd, [{ delete: '/g/other', ifValue: 'mine' }]),
      commitAtomic(etcd, [{ delete: '/g/rev', ifRevision: { key: '/g/rev', modRevision } }]),
      commitAtomic(etcd, [{ delete: '/g/moved', ifRevision: { key: '/g/moved', modRevision } }]),
    ]);
    assert.equal(txns(), 1);
    assert.deepEqual(memory.tree('/g/'), { '/g/other': 'theirs', '/g/moved': 'written again' });
  });
});
