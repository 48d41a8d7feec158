import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchOps, KeyOp, MAX_TXN_OPS, prefixEnd } from '../../src/etcd/ops';

describe('etcd ops', () => {
  it('keeps up to 128 operations in one transaction and splits past that', () => {
    const ops = (n: number): KeyOp[] => Array.from({ length: n }, (_, i) => ({ put: `/k/${i}`, value: 'v' }));
    assert.equal(batchOps(ops(MAX_TXN_OPS)).length, 1);
    const split = batchOps(ops(MAX_TXN_OPS + 1));
    assert.deepEqual(split.map((b) => b.length), [128, 1]);
    assert.deepEqual(batchOps(ops(300)).map((b) => b.length), [128, 128, 44]);
  });

  it('splits by size before etcd\'s 1.5 MiB request limit', () => {
    const big = 'x'.repeat(300 * 1024);
    const batches = batchOps(Array.from({ length: 10 }, (_, i) => ({ put: `/k/${i}`, value: big })));
    assert.ok(batches.length >= 3, `${batches.length} batches`);
    for (const b of batches) assert.ok(b.length * big.length < 1.5 * 1024 * 1024);
    assert.equal(batches.flat().length, 10);
  });

  it('computes the range end of a prefix', () => {
    assert.equal(prefixEnd('/registry/').toString(), '/registry0');
    assert.deepEqual([...prefixEnd('a\xff')], [0x61, 0xc3, 0xc0]);
  });
});
