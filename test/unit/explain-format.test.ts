import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExplainReport } from '../../src/ops/explain';
import { formatExplain } from '../../src/ops/explain-format';
import { leftOutOfPlan, warningAsLeftOut } from '../../src/ops/left-out';

describe('explain: reasons and text', () => {
  it('a model warning names its port; a registry rejection its port; the rest the container', () => {
    assert.deepEqual(warningAsLeftOut('container web (0123456789ab): port 81/udp is outside 1-65535; skipped', 'web', '0123456789ab'), {
      what: 'port 81/udp',
      reason: 'port 81/udp is outside 1-65535; skipped',
    });
    assert.deepEqual(warningAsLeftOut('web port 80/tcp: unknown SERVICE_MODE "x" (http or tcp)', 'web', '0123456789ab'), {
      what: 'port 80/tcp',
      reason: 'unknown SERVICE_MODE "x" (http or tcp)',
    });
    assert.deepEqual(warningAsLeftOut('container web (0123456789ab): could not be turned into services: boom', 'web', '0123456789ab'), {
      what: 'container',
      reason: 'could not be turned into services: boom',
    });
    assert.deepEqual(
      leftOutOfPlan({ leftOut: [{ what: 'port 1/tcp', reason: 'SERVICE_IGNORE is "yes"' }], warnings: ['web port 2/tcp: no'] }, 'web', 'x'),
      [
        { what: 'port 1/tcp', reason: 'SERVICE_IGNORE is "yes"' },
        { what: 'port 2/tcp', reason: 'no' },
      ],
    );
  });

  it('text: container, claim, then per writer what it writes and leaves out', () => {
    const report: ExplainReport = {
      host: 'h1',
      claim: { state: 'free' },
      container: { id: 'a'.repeat(64), name: 'web', running: true, health: 'healthy' },
      writers: [
        { writer: 'mirror', entry: [{ key: '/registry/containers/x/name', value: 'web' }], changes: 1, leftOut: [] },
        {
          writer: 'etcd:///services',
          read: true,
          services: [{ id: 'h1:web:80', name: 'web', address: '10.0.0.1:8080', change: 'in step' }],
          deregister: ['h1:web:81'],
          leftOut: [{ what: 'port 90/tcp', reason: 'exposed but not published (-internal registers exposed ports)' }],
          notes: [],
        },
      ],
    };
    assert.equal(
      formatExplain(report),
      [
        'container web (aaaaaaaaaaaa): running, health healthy',
        'host h1: not claimed by any daemon',
        'mirror:',
        '  entry (1 key to change):',
        '    /registry/containers/x/name = web',
        'etcd:///services:',
        '  service h1:web:80 (web) at 10.0.0.1:8080: in step',
        '  service h1:web:81: deregister',
        '  left out: port 90/tcp: exposed but not published (-internal registers exposed ports)',
      ].join('\n'),
    );
  });
});
