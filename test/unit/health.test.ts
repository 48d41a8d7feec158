import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { health, HealthAnswer } from '../../src/http/health';
import type { ClaimStatus } from '../../src/fleet/host-claim';
import type { DaemonStatus, HistoryStatus, WriterState } from '../../src/observer';

function status(dockerConnected: boolean, firstReconcileDone: boolean, writers: Record<string, WriterState>): DaemonStatus {
  return {
    dockerConnected,
    firstReconcileDone,
    writers: Object.entries(writers).map(([name, state]) => ({ name, state, containersHeld: 7 })),
  };
}

const HELD: ClaimStatus = { state: 'held', host: 'h1' };
const CLAIMING: ClaimStatus = { state: 'claiming', host: 'h1', reason: 'the host-name claim is being taken again: its lease was lost' };
const CONFLICT: ClaimStatus = {
  state: 'conflict',
  host: 'h1',
  holder: {
    host: 'h1',
    engine: { id: 'AAAA:BBBB', name: 'other' },
    hostname: 'other',
    pid: 7,
    version: '0.1.0',
    since: '2026-12-07T00:00:00Z',
  },
  reason: 'host name h1 is claimed by another daemon: engine other (ID AAAA:BBBB), daemon pid 7 on other since 2026-12-07T00:00:00Z',
};
const STEADY: HistoryStatus = { state: 'steady', changes: 0 };
const RECOVERING: HistoryStatus = {
  state: 'recovering',
  changes: 1,
  last: { kind: 'cluster', detail: 'cluster ID 1 -> 2, revision 90 -> 4', at: '2026-12-07T00:00:00Z' },
};

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
    [
      "host name held by another engine's daemon: 503 conflict with the reason, even before any reconciliation",
      { ...status(true, false, { 'writer.mirror': 'out-of-step' }), hostClaim: CONFLICT },
      {
        code: 503,
        body: {
          status: 'conflict',
          docker: 'connected',
          writers: { 'writer.mirror': 'out-of-step' },
          hostClaim: CONFLICT,
          reason: CONFLICT.reason,
        },
      },
    ],
    [
      'claim held and history steady: 200',
      { ...status(true, true, { 'writer.mirror': 'in-step' }), hostClaim: HELD, etcdHistory: STEADY },
      {
        code: 200,
        body: { status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step' }, hostClaim: HELD, etcdHistory: STEADY },
      },
    ],
    [
      'an etcd history change being repaired, writers still in step: 503 recovering',
      { ...status(true, true, { 'writer.mirror': 'in-step' }), hostClaim: HELD, etcdHistory: RECOVERING },
      {
        code: 503,
        body: {
          status: 'recovering',
          docker: 'connected',
          writers: { 'writer.mirror': 'in-step' },
          hostClaim: HELD,
          etcdHistory: RECOVERING,
          reason: 'etcd history changed (cluster: cluster ID 1 -> 2, revision 90 -> 4); bringing every writer back in step',
        },
      },
    ],
    [
      'claim being taken again (its lease lost): 503 degraded with the reason',
      { ...status(true, true, { 'writer.mirror': 'in-step' }), hostClaim: CLAIMING },
      {
        code: 503,
        body: {
          status: 'degraded',
          docker: 'connected',
          writers: { 'writer.mirror': 'in-step' },
          hostClaim: CLAIMING,
          reason: CLAIMING.reason,
        },
      },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(health(input), expected));
  }
});
