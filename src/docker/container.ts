import type { ContainerInspectInfo } from 'dockerode';

/**
 * A container as Docker's inspect gives it. For `--net=container:<ref>` the daemon adds, under a name
 * Docker does not use, the inspect of <ref> (`null`: it is gone), so the service model can register
 * at that container's address without doing I/O itself (see inspectState).
 */
export type ContainerInfo = ContainerInspectInfo & { networkContainer?: ContainerInspectInfo | null };

/** The container whose network this one shares (`--net=container:<ref>`, `<ref>` an ID or a name), if any. */
export function networkContainerRef(c: ContainerInspectInfo): string | undefined {
  const mode = String(c.HostConfig?.NetworkMode ?? '');
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

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
