import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyOp } from '../../src/etcd/key-ops';
import { MirrorLayout, planMirror } from '../../src/mirror/keys';

const layout = new MirrorLayout('registry');
const ID = 'a'.repeat(64);
const C = `/registry/containers/${ID}/`;

const entry = {
  [`${C}id`]: ID,
  [`${C}name`]: 'web',
  [`${C}state`]: 'running',
  [`${C}labels/role`]: 'db',
  [`/registry/labels/role/${ID}`]: 'db',
  '/registry/hosts/h1/web': ID,
};

const cases: Array<{ name: string; held: Record<string, string>; wanted: Record<string, string>; ops: KeyOp[] }> = [
  { name: 'nothing held, nothing wanted', held: {}, wanted: {}, ops: [] },
  { name: 'in step: no op at all (etcd revisions stay still)', held: entry, wanted: entry, ops: [] },
  {
    name: 'new container: every key put',
    held: {},
    wanted: { [`${C}id`]: ID, '/registry/hosts/h1/web': ID },
    ops: [
      { put: `${C}id`, value: ID },
      { put: '/registry/hosts/h1/web', value: ID },
    ],
  },
  {
    name: 'paused: only the changed key',
    held: entry,
    wanted: { ...entry, [`${C}state`]: 'paused' },
    ops: [{ put: `${C}state`, value: 'paused' }],
  },
  {
    name: 'a key deleted by hand is put again',
    held: Object.fromEntries(Object.entries(entry).filter(([k]) => k !== `${C}name`)),
    wanted: entry,
    ops: [{ put: `${C}name`, value: 'web' }],
  },
  {
    name: 'label removed: entry label and index key deleted',
    held: entry,
    wanted: Object.fromEntries(Object.entries(entry).filter(([k]) => !k.includes('role'))),
    ops: [{ delete: `${C}labels/role` }, { delete: `/registry/labels/role/${ID}` }],
  },
  {
    name: 'renamed: new hosts/ key put, old one deleted only while it still names this id',
    held: entry,
    wanted: {
      ...Object.fromEntries(Object.entries(entry).filter(([k]) => !k.startsWith('/registry/hosts/'))),
      [`${C}name`]: 'web2',
      '/registry/hosts/h1/web2': ID,
    },
    ops: [
      { put: `${C}name`, value: 'web2' },
      { put: '/registry/hosts/h1/web2', value: ID },
      { delete: '/registry/hosts/h1/web', ifValue: ID },
    ],
  },
  {
    name: 'gone: every key deleted, the hosts/ key conditionally',
    held: entry,
    wanted: {},
    ops: [
      { delete: `${C}id` },
      { delete: `${C}name` },
      { delete: `${C}state` },
      { delete: `${C}labels/role` },
      { delete: `/registry/labels/role/${ID}` },
      { delete: '/registry/hosts/h1/web', ifValue: ID },
    ],
  },
];

describe('planMirror', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(planMirror(ID, new Map(Object.entries(c.held)), new Map(Object.entries(c.wanted)), layout), c.ops);
    });
  }
});
