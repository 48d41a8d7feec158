import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Etcd3, IRequestOp } from 'etcd3';
import { commitAtomic } from '../../src/etcd/commit';
import { TransactionTooLargeError } from '../../src/etcd/errors';
import {
  atomicLimitExceeded,
  atomicRequests,
  KeyOp,
  MAX_ATOMIC_OPS,
  MAX_TXN_BYTES,
  MAX_TXN_OPS,
  mergeTransactions,
  packAtomic,
  prefixEnd,
  splitIntoTransactions,
} from '../../src/etcd/key-ops';

describe('etcd ops', () => {
  it('keeps up to 128 operations in one transaction and splits past that', () => {
    const ops = (n: number): KeyOp[] => Array.from({ length: n }, (_, i) => ({ put: `/k/${i}`, value: 'v' }));
    assert.equal(splitIntoTransactions(ops(MAX_TXN_OPS)).length, 1);
    const split = splitIntoTransactions(ops(MAX_TXN_OPS + 1));
    assert.deepEqual(
      split.map((b) => b.length),
      [128, 1],
    );
    assert.deepEqual(
      splitIntoTransactions(ops(300)).map((b) => b.length),
      [128, 128, 44],
    );
  });

  it("splits by size before etcd's 1.5 MiB request limit", () => {
    const big = 'x'.repeat(300 * 1024);
    const batches = splitIntoTransactions(Array.from({ length: 10 }, (_, i) => ({ put: `/k/${i}`, value: big })));
    assert.ok(batches.length >= 3, `${batches.length} batches`);
    for (const b of batches) assert.ok(b.length * big.length < 1.5 * 1024 * 1024);
    assert.equal(batches.flat().length, 10);
  });

  it('computes the range end of a prefix', () => {
    assert.equal(prefixEnd('/registry/').toString(), '/registry0');
    assert.deepEqual([...prefixEnd('a\xff')], [0x61, 0xc3, 0xc0]);
  });
});

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
      const packed = atomicRequests(packAtomic(ops).groups ?? []);
      assert.equal(packed.length, topLevel);
      assert.ok(etcdAccepts(packed), 'within etcd 3.4 --max-txn-ops 128');
      assert.deepEqual(
        flatten(packed).map((op) => String(op.request_put?.key ?? op.request_txn?.compare?.[0].key)),
        ops.map((op) => ('put' in op ? op.put : 'delete' in op ? op.delete : '')),
      );
    });
  }

  it('refuses more ops than any nesting carries, naming the limit', () => {
    assert.match(atomicLimitExceeded(puts(MAX_ATOMIC_OPS + 1)) ?? '', /^4033 keys, more than the 4032 /);
  });

  it('commits nothing past the limits: commitAtomic rejects with TransactionTooLargeError before using the client', async () => {
    await assert.rejects(commitAtomic({} as Etcd3, puts(MAX_ATOMIC_OPS + 1)), TransactionTooLargeError);
  });

  it('refuses more bytes than one request is given, counting UTF-8 bytes', () => {
    assert.equal(atomicLimitExceeded(puts(5, 'x'.repeat(200 * 1024))), undefined);
    assert.match(atomicLimitExceeded(puts(6, 'x'.repeat(200 * 1024))) ?? '', /^\d+ bytes of keys and values, more than the 1048576 /);
    // 3 bytes per character in UTF-8: a third as many characters passes the limit.
    assert.match(atomicLimitExceeded([{ put: '/k', value: '✓'.repeat(Math.ceil(MAX_TXN_BYTES / 3)) }]) ?? '', /bytes of keys and values/);
  });
});

describe('splitIntoTransactions keeps a spare op for a conditional delete', () => {
  it('splits 127 puts and a conditional delete into 127 and 1', () => {
    assert.deepEqual(
      splitIntoTransactions([...puts(127), conditional]).map((b) => b.length),
      [127, 1],
    );
    assert.deepEqual(
      splitIntoTransactions([conditional, ...puts(200)]).map((b) => b.length),
      [127, 74],
    );
  });
});

const putsUnder = (prefix: string, n: number): KeyOp[] => Array.from({ length: n }, (_, i) => ({ put: `${prefix}${i}`, value: 'v' }));
const sizes = (groups: Array<Array<{ ops: readonly KeyOp[] }>>) => groups.map((g) => g.map((t) => t.ops.length));

describe('mergeTransactions: which transactions of one moment travel together', () => {
  const cases: Array<[string, KeyOp[][], number[][]]> = [
    ['one transaction stays alone', [putsUnder('/a/', 3)], [[3]]],
    ['small ones merge, in order', [putsUnder('/a/', 3), putsUnder('/b/', 4), putsUnder('/c/', 5)], [[3, 4, 5]]],
    ['up to 128 operations in all', [putsUnder('/a/', 100), putsUnder('/b/', 28), putsUnder('/c/', 1)], [[100, 28], [1]]],
    [
      '127 when a conditional delete (a nested transaction) is among them',
      [putsUnder('/a/', 100), [...putsUnder('/b/', 26), { delete: '/h/x', ifValue: 'id' }], putsUnder('/c/', 1)],
      [[100, 27], [1]],
    ],
    ['a key touched twice splits the group', [putsUnder('/a/', 2), [{ delete: '/a/1' }], putsUnder('/b/', 1)], [[2], [1, 1]]],
    [
      'a prefix deletion does not travel with a key under it, before or after',
      [putsUnder('/a/', 2), [{ deletePrefix: '/a/' }], putsUnder('/b/', 1), putsUnder('/a/', 1)],
      [[2], [1, 1], [1]],
    ],
    ['a prefix deletion travels with keys outside it', [putsUnder('/b/', 2), [{ deletePrefix: '/a/' }], putsUnder('/c/', 1)], [[2, 1, 1]]],
    ['two prefix deletions, one inside the other, split', [[{ deletePrefix: '/a/' }], [{ deletePrefix: '/a/b/' }]], [[1], [1]]],
    [
      'a guarded tree deletion is nested: 127 with it',
      [putsUnder('/a/', 127), [{ deletePrefix: '/t/', ifRevision: { key: '/t/address', modRevision: '7' } }]],
      [[127], [1]],
    ],
    [
      'the request size limit splits too',
      [[{ put: '/big/1', value: 'x'.repeat(700_000) }], [{ put: '/big/2', value: 'x'.repeat(700_000) }]],
      [[1], [1]],
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(sizes(mergeTransactions(input.map((ops) => ({ ops })))), expected));
  }
});
