import type { ClaimStatus } from '../fleet/host-claim';
import type { DaemonStatus, HistoryStatus, WriterState } from '../observer';

/** The /healthz body; the same shape whatever the status code. */
export interface HealthBody {
  /**
   * `ok` (200); otherwise 503: `starting` until the first reconciliation finished, `conflict` while
   * another daemon holds this host name, `recovering` while the writers are brought back in step
   * after etcd's history changed, `degraded` for the rest (Docker disconnected, a writer out of step).
   */
  status: 'ok' | 'starting' | 'degraded' | 'conflict' | 'recovering';
  docker: 'connected' | 'disconnected';
  /** Writer name (`writer.mirror`, `writer.etcd`, ...) -> its state. */
  writers: Record<string, WriterState>;
  /** The claim on this daemon's host name, when it has one. */
  hostClaim?: ClaimStatus;
  etcdHistory?: HistoryStatus;
  /** Why the status is not `ok`, in one line, where one cause says it all (a conflict, a history change). */
  reason?: string;
}

export interface HealthAnswer {
  code: 200 | 503;
  body: HealthBody;
}

/**
 * 200 only when the first reconciliation has finished, the Docker event stream is subscribed, this
 * daemon holds its host name, no etcd history change is being repaired and every writer is in step;
 * 503 otherwise (docs/metrics.md lists the cases).
 */
export function health(status: DaemonStatus): HealthAnswer {
  const writers = Object.fromEntries(status.writers.map((w) => [w.name, w.state]));
  const claim = status.hostClaim;
  const history = status.etcdHistory;
  const healthy = status.dockerConnected && status.writers.every((w) => w.state === 'in-step') && (claim?.state ?? 'held') === 'held';
  const conflict = claim?.state === 'conflict';
  const recovering = history?.state === 'recovering';
  const body: HealthBody = {
    status: conflict ? 'conflict' : !status.firstReconcileDone ? 'starting' : recovering ? 'recovering' : healthy ? 'ok' : 'degraded',
    docker: status.dockerConnected ? 'connected' : 'disconnected',
    writers,
    ...(claim ? { hostClaim: claim } : {}),
    ...(history ? { etcdHistory: history } : {}),
  };
  const reason = conflict
    ? claim.reason
    : recovering
      ? `etcd history changed (${history.last?.kind}: ${history.last?.detail}); bringing every writer back in step`
      : claim && claim.state !== 'held'
        ? claim.reason
        : undefined;
  if (reason) body.reason = reason;
  return { code: body.status === 'ok' ? 200 : 503, body };
}
