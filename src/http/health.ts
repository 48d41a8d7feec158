import type { DaemonStatus, WriterState } from '../observer';

/** The /healthz body; the same shape whatever the status code. */
export interface HealthBody {
  /** `ok` (200); `starting` until the first reconciliation finished, `degraded` after (503). */
  status: 'ok' | 'starting' | 'degraded';
  docker: 'connected' | 'disconnected';
  /** Writer name (`writer.mirror`, `writer.etcd`, ...) -> its state. */
  writers: Record<string, WriterState>;
}

export interface HealthAnswer {
  code: 200 | 503;
  body: HealthBody;
}

/**
 * 200 only when the first reconciliation has finished, the Docker event stream is subscribed and
 * every writer is in step; 503 otherwise (docs/metrics.md lists the cases).
 */
export function health(status: DaemonStatus): HealthAnswer {
  const writers = Object.fromEntries(status.writers.map((w) => [w.name, w.state]));
  const healthy = status.dockerConnected && status.writers.every((w) => w.state === 'in-step');
  const body: HealthBody = {
    status: !status.firstReconcileDone ? 'starting' : healthy ? 'ok' : 'degraded',
    docker: status.dockerConnected ? 'connected' : 'disconnected',
    writers,
  };
  return { code: body.status === 'ok' ? 200 : 503, body };
}
