import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyOp } from '../../src/etcd/ops';
import { mergeGroups } from '../../src/etcd/txn-batcher';

const puts = (prefix: string, n: number): KeyOp[] => Array.from({ length: n }, (_, i) => ({ put: `${prefix}${i}`, value: 'v' }));
const sizes = (groups: Array<Array<{ ops: readonly KeyOp[] }>>) => groups.map((g) => g.map((t) => t.ops.length));

describe('mergeGroups: which transactions of one moment travel together', () => {
  const cases: Array<[string, KeyOp[][], number[][]]> = [
    ['one transaction stays alone', [puts('/a/', 3)], [[3]]],
    ['small ones merge, in order', [puts('/a/', 3), puts('/b/', 4), puts('/c/', 5)], [[3, 4, 5]]],
    ['up to 128 operations in all', [puts('/a/', 100), puts('/b/', 28), puts('/c/', 1)], [[100, 28], [1]]],
    ['127 when a conditional delete (a nested transaction) is among them', [puts('/a/', 100), [...puts('/b/', 26), { delete: '/h/x', ifValue: 'id' }], puts('/c/', 1)], [[100, 27], [1]]],
    ['a key touched twice splits the group', [puts('/a/', 2), [{ delete: '/a/1' }], puts('/b/', 1)], [[2], [1, 1]]],
    ['a prefix deletion does not travel with a key under it, before or after', [puts('/a/', 2), [{ deletePrefix: '/a/' }], puts('/b/', 1), puts('/a/', 1)], [[2], [1, 1], [1]]],
    ['a prefix deletion travels with keys outside it', [puts('/b/', 2), [{ deletePrefix: '/a/' }], puts('/c/', 1)], [[2, 1, 1]]],
    ['two prefix deletions, one inside the other, split', [[{ deletePrefix: '/a/' }], [{ deletePrefix: '/a/b/' }]], [[1], [1]]],
    ['a guarded tree deletion is nested: 127 with it', [puts('/a/', 127), [{ deletePrefix: '/t/', ifRevision: { key: '/t/address', modRevision: '7' } }]], [[127], [1]]],
    ['the request size limit splits too', [[{ put: '/big/1', value: 'x'.repeat(700_000) }], [{ put: '/big/2', value: 'x'.repeat(700_000) }]], [[1], [1]]],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(sizes(mergeGroups(input.map((ops) => ({ ops })))), expected));
  }
});
