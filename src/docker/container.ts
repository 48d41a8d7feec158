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

/** Running (and not restarting), whatever its health. */
export function isRunning(c: ContainerInfo): boolean {
  return Boolean(c.State?.Running) && !c.State?.Restarting;
}

/**
 * Whether writers should hold this container (docs/mirror.md, "The Docker watcher"): running (paused counts), not restarting,
 * and, when it has a HEALTHCHECK, currently `healthy` (`starting`/`unhealthy` count as not running).
 */
export function isActive(c: ContainerInfo): boolean {
  if (!isRunning(c)) return false;
  const health = (c.State as { Health?: { Status?: string } }).Health;
  if (health && health.Status !== undefined && health.Status !== 'none') return health.Status === 'healthy';
  return true;
}

/** Container name as the user knows it (inspect gives "/name"); `''` when the inspect has none. */
export function containerName(c: ContainerInfo): string {
  return typeof c?.Name === 'string' ? c.Name.replace(/^\//, '') : '';
}

/** The address fields Docker reports per network (and, for the default bridge, at the top level). */
export type AddressField = 'IPAddress' | 'GlobalIPv6Address';

/**
 * Where to look for an address once the default bridge has none: the first network by name that has
 * one (`by-name`), or first the network the container was started on (its `HostConfig.NetworkMode`).
 */
export type NetworkFallback = 'by-name' | 'own-network-then-by-name';

/**
 * One address of the container (`field`): its default-bridge value, else per `fallback`; `''` when
 * no network has one. A network without that address (IPv6-only, or still being attached) does not
 * hide the next one.
 *
 * The two fallbacks are two documented rules, which differ for a container on several networks.
 * The mirror's `network/ip` is `by-name` (docs/mirror.md, "IP"): `docker network connect` to a network
 * that sorts first changes it. The service model's addresses are `own-network-then-by-name`: they stay
 * on the network the container was started on, whatever it is connected to later.
 */
export function networkAddress(c: ContainerInfo, field: AddressField, fallback: NetworkFallback): string {
  // The top-level fields are the default bridge's; newer API typings dropped them, engines still send them.
  const settings = c.NetworkSettings as (ContainerInfo['NetworkSettings'] & Partial<Record<AddressField, string>>) | undefined;
  if (settings?.[field]) return settings[field]!;
  const networks = (settings?.Networks ?? {}) as Record<string, Partial<Record<AddressField, string>> | undefined>;
  if (fallback === 'own-network-then-by-name') {
    const own = networks[String(c.HostConfig?.NetworkMode ?? '')]?.[field];
    if (own) return own;
  }
  for (const name of Object.keys(networks).sort()) {
    const address = networks[name]?.[field];
    if (address) return address;
  }
  return '';
}

/** A key of Docker's port maps (`80/tcp`, `53/udp`, a bare `80`), its parts as written. */
export interface PortKey {
  /** The port's digits as written (`080` stays `080`). */
  digits: string;
  port: number;
  /** The protocol as written; absent for a bare port. */
  proto?: string;
}

/**
 * Splits a key of `NetworkSettings.Ports` / `Config.ExposedPorts`; undefined when it is not digits
 * with an optional `/<protocol>`. Docker's API stores any string there, so the range and the
 * protocols that are usable are the caller's to judge.
 */
export function parsePortKey(key: string): PortKey | undefined {
  const match = /^(\d+)(?:\/([A-Za-z0-9]+))?$/.exec(key);
  if (!match) return undefined;
  const [, digits, proto] = match;
  return { digits, port: Number(digits), proto };
}
