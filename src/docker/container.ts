import type { ContainerInspectInfo } from 'dockerode';

export type ContainerInfo = ContainerInspectInfo;

/**
 * Whether writers should hold this container (SPEC §2): running (paused counts), not restarting,
 * and, when it has a HEALTHCHECK, currently `healthy` (`starting`/`unhealthy` count as not running).
 */
/** Running (and not restarting), whatever its health. */
export function isRunning(c: ContainerInfo): boolean {
  return Boolean(c.State?.Running) && !c.State?.Restarting;
}

export function isActive(c: ContainerInfo): boolean {
  const state = c.State;
  if (!state?.Running || state.Restarting) return false;
  const health = (state as { Health?: { Status?: string } }).Health;
  if (health && health.Status !== undefined && health.Status !== 'none') return health.Status === 'healthy';
  return true;
}

/** Container name as the user knows it (inspect gives "/name"). */
export function containerName(c: ContainerInfo): string {
  return c.Name.replace(/^\//, '');
}
