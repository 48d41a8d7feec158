import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { health, HealthAnswer } from '../../src/http/health';
import type { DaemonStatus, WriterState } from '../../src/observer';

function status(dockerConnected: boolean, firstReconcileDone: boolean, writers: Record<string, WriterState>): DaemonStatus {
  return {
    dockerConnected,
    firstReconcileDone,
    writers: Object.entries(writers).map(([name, state]) => ({ name, state, containersHeld: 7 })),
  };
}

describe('/healthz answer from the daemon status', () => {
  const cases: Array<[string, DaemonStatus, HealthAnswer]> = [
    [
      'all up: 200',
      status(true, true, { 'writer.mirror': 'in-step', 'writer.etcd': 'in-step' }),
      { code: 200, body: { status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step', 'writer.etcd': 'in-step' } } },
    ],
    [
      'before the first reconciliation finished, even with everything up: 503 starting',
      status(true, false, { 'writer.mirror': 'in-step' }),
      { code: 503, body: { status: 'starting', docker: 'connected', writers: { 'writer.mirror': 'in-step' } } },
    ],
    [
      'Docker never reached yet: 503 starting',
      status(false, false, { 'writer.mirror': 'out-of-step' }),
      { code: 503, body: { status: 'starting', docker: 'disconnected', writers: { 'writer.mirror': 'out-of-step' } } },
    ],
    [
      'Docker event stream lost: 503 degraded',
      status(false, true, { 'writer.mirror': 'in-step' }),
      { code: 503, body: { status: 'degraded', docker: 'disconnected', writers: { 'writer.mirror': 'in-step' } } },
    ],
    [
      'one writer out of step after a failed write: 503 degraded',
      status(true, true, { 'writer.mirror': 'in-step', 'writer.hamesh': 'out-of-step' }),
      {
        code: 503,
        body: { status: 'degraded', docker: 'connected', writers: { 'writer.mirror': 'in-step', 'writer.hamesh': 'out-of-step' } },
      },
    ],
    [
      'one writer still unreachable (-retry-attempts): 503 degraded',
      status(true, true, { 'writer.mirror': 'in-step', 'writer.consul': 'unreachable' }),
      {
        code: 503,
        body: { status: 'degraded', docker: 'connected', writers: { 'writer.mirror': 'in-step', 'writer.consul': 'unreachable' } },
      },
    ],
    [
      'everything down: 503 degraded',
      status(false, true, { 'writer.mirror': 'out-of-step', 'writer.etcd': 'unreachable' }),
      {
        code: 503,
        body: { status: 'degraded', docker: 'disconnected', writers: { 'writer.mirror': 'out-of-step', 'writer.etcd': 'unreachable' } },
      },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(health(input), expected));
  }
});
