import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyChange, keyChanges } from '../../src/etcd/changes';
import type { KeyOp } from '../../src/etcd/key-ops';

const cases: Array<{ name: string; current: Record<string, string>; ops: KeyOp[]; changes: KeyChange[] }> = [
  { name: 'no ops', current: { '/a': '1' }, ops: [], changes: [] },
  { name: 'put of a new key', current: {}, ops: [{ put: '/a', value: '1' }], changes: [{ key: '/a', before: null, after: '1' }] },
  { name: 'put of the value a key holds changes nothing', current: { '/a': '1' }, ops: [{ put: '/a', value: '1' }], changes: [] },
  {
    name: 'put of another value',
    current: { '/a': '1' },
    ops: [{ put: '/a', value: '2' }],
    changes: [{ key: '/a', before: '1', after: '2' }],
  },
  { name: 'delete of a held key', current: { '/a': '1' }, ops: [{ delete: '/a' }], changes: [{ key: '/a', before: '1', after: null }] },
  { name: 'delete of a missing key changes nothing', current: {}, ops: [{ delete: '/a' }], changes: [] },
  {
    name: 'conditional delete, value matches',
    current: { '/h/web': 'id1' },
    ops: [{ delete: '/h/web', ifValue: 'id1' }],
    changes: [{ key: '/h/web', before: 'id1', after: null }],
  },
  {
    name: 'conditional delete, another value: kept',
    current: { '/h/web': 'id2' },
    ops: [{ delete: '/h/web', ifValue: 'id1' }],
    changes: [],
  },
  {
    name: 'prefix delete removes every key under it, sorted',
    current: { '/m/s/id/port': '80', '/m/s/id/address': '10.0.0.1', '/m/s/id2/port': '81' },
    ops: [{ deletePrefix: '/m/s/id/' }],
    changes: [
      { key: '/m/s/id/address', before: '10.0.0.1', after: null },
      { key: '/m/s/id/port', before: '80', after: null },
    ],
  },
  {
    name: 'deregistered then registered with a new value: one change',
    current: { '/s/web/id': '10.0.0.1:80' },
    ops: [
      { delete: '/s/web/id', ifValue: '10.0.0.1:80' },
      { put: '/s/web/id', value: '10.0.0.1:81' },
    ],
    changes: [{ key: '/s/web/id', before: '10.0.0.1:80', after: '10.0.0.1:81' }],
  },
  {
    name: 'tree deleted then written again with the same values: no change',
    current: { '/m/s/id/port': '80' },
    ops: [{ deletePrefix: '/m/s/id/' }, { put: '/m/s/id/port', value: '80' }],
    changes: [],
  },
];

describe('keyChanges', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(keyChanges(c.ops, new Map(Object.entries(c.current))), c.changes);
    });
  }
});
