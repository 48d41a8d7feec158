import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DiffReport } from '../../src/ops/diff';
import { formatDiff } from '../../src/ops/diff-format';

const ID = 'd'.repeat(64);

describe('diff text output', () => {
  it('diff: services, then +, ~ and - keys; a summary line', () => {
    const report: DiffReport = {
      host: 'h1',
      changes: 3,
      writers: [
        { writer: 'mirror', covered: true, put: [], delete: [], warnings: [] },
        {
          writer: 'etcd:///services',
          covered: true,
          services: [{ id: 'h1:web:80', name: 'web', containerId: ID, change: 'update' }],
          put: [
            { key: '/a', value: '1', previous: null },
            { key: '/b', value: '2', previous: '1' },
          ],
          delete: [{ key: '/c', previous: '3' }],
          warnings: ['web port 81/tcp: why'],
        },
      ],
    };
    assert.equal(
      formatDiff(report),
      [
        'mirror: nothing to change',
        'etcd:///services:',
        '  update h1:web:80 (web, container dddddddddddd)',
        '  + /a = 1',
        '  ~ /b = 2 (was 1)',
        '  - /c = 3',
        'etcd:///services: skipped: web port 81/tcp: why',
        'host h1: 2 keys to put, 1 to delete',
      ].join('\n'),
    );
    assert.equal(formatDiff({ host: 'h1', changes: 0, writers: [] }), 'host h1: nothing to change');
  });
});
