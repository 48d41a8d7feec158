import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IRequestOp } from 'etcd3';
import { atomicLimitExceeded, MAX_ATOMIC_OPS, packAtomic, TransactionTooLargeError } from '../../src/etcd/atomic-txn';
import { batchOps, KeyOp, MAX_TXN_BYTES } from '../../src/etcd/ops';

const puts = (n: number, value = 'v'): KeyOp[] => Array.from({ length: n }, (_, i) => ({ put: `/k/${i}`, value }));
const conditional: KeyOp = { delete: '/hosts/h/x', ifValue: 'id' };

/** etcd's rule (v3.4 checkTxnRequest): a list may hold `budget` ops; each nested txn gets budget minus the list's length. */
function etcdAccepts(ops: IRequestOp[], budget = 128): boolean {
  if (ops.length > budget) return false;
  return ops.every((op) => !op.request_txn || etcdAccepts(op.request_txn.success ?? [], budget - ops.length));
}

/** Every op of a packed request, in order, flattened out of its groups. */
function flatten(ops: IRequestOp[]): IRequestOp[] {
  return ops.flatMap((op) => (op.request_txn && !op.request_txn.compare ? flatten(op.request_txn.success ?? []) : [op]));
}

describe('packAtomic: many ops in one etcd transaction', () => {
  const table: Array<[string, KeyOp[], number]> = [
    ['128 puts stay flat', puts(128), 128],
    ['127 puts and a conditional delete stay flat', [...puts(127), conditional].slice(1), 127],
    ['128 puts and a conditional delete nest (the delete needs a spare op)', [...puts(128), conditional], 2],
    ['129 puts nest in 2 groups', puts(129), 2],
    ['1010 puts (500 labels) nest in 9 groups', puts(1010), 9],
    ['1009 puts and a conditional delete', [...puts(1009), conditional], 9],
    [`${MAX_ATOMIC_OPS} puts, the most one transaction holds`, puts(MAX_ATOMIC_OPS), 63],
  ];
  for (const [name, ops, topLevel] of table) {
    it(name, () => {
      const packed = packAtomic(ops);
      assert.equal(packed.length, topLevel);
      assert.ok(etcdAccepts(packed), 'within etcd 3.4 --max-txn-ops 128');
      assert.deepEqual(flatten(packed).map((op) => String(op.request_put?.key ?? op.request_txn?.compare?.[0].key)), ops.map((op) => ('put' in op ? op.put : 'delete' in op ? op.delete : '')));
    });
  }

  it('refuses more ops than any nesting carries, naming the limit', () => {
    assert.match(atomicLimitExceeded(puts(MAX_ATOMIC_OPS + 1)) ?? '', /^4033 keys, more than the 4032 /);
    assert.throws(() => packAtomic(puts(MAX_ATOMIC_OPS + 1)), TransactionTooLargeError);
  });

  it('refuses more bytes than one request is given, counting UTF-8 bytes', () => {
    assert.equal(atomicLimitExceeded(puts(5, 'x'.repeat(200 * 1024))), undefined);
    assert.match(atomicLimitExceeded(puts(6, 'x'.repeat(200 * 1024))) ?? '', /^\d+ bytes of keys and values, more than the 1048576 /);
    // 3 bytes per character in UTF-8: a third as many characters passes the limit.
    assert.match(atomicLimitExceeded([{ put: '/k', value: '✓'.repeat(Math.ceil(MAX_TXN_BYTES / 3)) }]) ?? '', /bytes of keys and values/);
  });
});

describe('batchOps keeps a spare op for a conditional delete', () => {
  it('splits 127 puts and a conditional delete into 127 and 1', () => {
    assert.deepEqual(batchOps([...puts(127), conditional]).map((b) => b.length), [127, 1]);
    assert.deepEqual(batchOps([conditional, ...puts(200)]).map((b) => b.length), [127, 74]);
  });
});
