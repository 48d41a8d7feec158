/**
 * The service model's vocabulary (docs/registrator.md, "Services"): a service as the registries are given it,
 * where it came from, the daemon settings that shape it, and the steps that bring a registry in step.
 * The model itself is service-model.ts.
 */

export type Protocol = 'tcp' | 'udp';

/** Where a service came from: the container and port as Docker reports them. */
export interface ServiceOrigin {
  containerId: string;
  /** Container name without the leading `/`. */
  containerName: string;
  /**
   * Host port of the port's first binding; `null` when the port is not published (`-internal`,
   * `--net=container:`). Host networking: the exposed port, since the container listens on the host.
   */
  hostPort: number | null;
  /** The container-side port, as in `80/tcp`. */
  exposedPort: number;
  proto: Protocol;
  /** HostIp of the port's first binding exactly as Docker reports it; `''` when there is none. */
  hostIp: string;
  /** The container's `Config.Hostname`; `''` when missing. */
  hostname: string;
  /**
   * The container's global IPv6 address (its default-bridge one, else the one on its own network,
   * else the first by network name); absent when it has none. The address IPv6 traffic to the
   * container is forwarded to, whichever address the service registers (netfilter).
   */
  ipv6?: string;
  /** Docker's `State.Health.Status`; absent when the container has no HEALTHCHECK. */
  health?: ContainerHealth;
  /**
   * A Swarm task's service. `ingress`: the port is published through the routing mesh and registered at
   * the node's address, one registration per node whichever of the service's tasks on it gives it.
   */
  swarm?: { serviceId: string; serviceName: string; ingress?: true };
}

/** The health states Docker reports for a container with a HEALTHCHECK. */
export type ContainerHealth = 'starting' | 'healthy' | 'unhealthy';

export const HEALTH_STATES: readonly string[] = ['starting', 'healthy', 'unhealthy'] satisfies ContainerHealth[];

/** One registrable service. */
export interface Service {
  /** Unique per host: `<host>:<container-name>:<exposed-port>[:udp]` unless SERVICE_ID says otherwise. */
  id: string;
  name: string;
  port: number;
  ip: string;
  tags: string[];
  /** Every other SERVICE_ key of the port (lowercased), e.g. `mode`, `check_http`, `ttl`. */
  attrs: Record<string, string>;
  /** Seconds; set only when the options carry a positive `ttl`. */
  ttl?: number;
  origin: ServiceOrigin;
}

/** The daemon settings the service model depends on (docs/configuration.md flags). */
export interface ServiceModelOptions {
  /** The daemon's host name (`EC_REGISTRATOR_HOST`); the first part of every default service ID. */
  host: string;
  /**
   * The address registered for ports bound to `0.0.0.0` or no address, and for `--net=host`.
   * The caller resolves it: `-ip` when given, else the address of `host`, falling back to the
   * machine's first non-internal IPv4 when that is loopback or fails (see `pickHostAddress`).
   */
  hostIp: string;
  /**
   * The address registered for ports published on `::` only, which the IPv4 address does not serve:
   * `-ip` when it is IPv6, else the host's IPv6 address (see `pickHostIpv6Address`). `''` or absent
   * when the host has none: `hostIp` is used, with a warning.
   */
  hostIpv6?: string;
  /** `-internal`: register every exposed port at the container's IP and exposed port. */
  internal: boolean;
  /** `-explicit`: register only ports that have SERVICE_NAME or SERVICE_<port>_NAME. */
  explicit: boolean;
  /** `-tags`: comma-separated tags added to every service after SERVICE_TAGS (`\,` is a literal comma). */
  tags: string;
  /** `-useIpFromLabel`: a label whose value (an IP, optionally `/prefix`) replaces the service IP; `''` = off. */
  useIpFromLabel: string;
  /** `-ttl` in seconds; copied to each service when positive. */
  ttl?: number;
  /**
   * `-network`: the network whose address is registered where a container address is (`-internal`, or a
   * container on user-defined networks only), unless SERVICE_NETWORK names another; `''` or absent: none.
   */
  network?: string;
  /** `-name-from`: the default name of a service without SERVICE_NAME; `compose` uses Compose's labels. Default `image`. */
  nameFrom?: NameSource;
}

/** Where a service without SERVICE_NAME takes its name from (`-name-from`). */
type NameSource = 'image' | 'compose';

export interface ServiceModelResult {
  /** Ordered by exposed port, tcp before udp. */
  services: Service[];
  /** One line per problem, each naming the container and the reason. */
  warnings: string[];
  /** Ports left out on purpose or for lack of a publication, which give no warning (`registrator explain`). */
  leftOut: LeftOut[];
}

/** Something a writer does not write, and why. */
export interface LeftOut {
  what: string;
  reason: string;
}

/** Records something left out without a warning. */
export type SkipFn = (what: string, reason: string) => void;

/**
 * Largest service, as JSON in UTF-8. Registries keep a service whole in one value next to keys
 * holding its name and ID (etcd ownership records, Consul KV records of at most 512 KiB; etcd takes
 * 1.5 MiB per request), so one outsized container (Docker takes names of about 1 MiB) must not be
 * a write that fails for ever.
 */
export const MAX_SERVICE_BYTES = 128 * 1024;

/**
 * One step that brings a container's services in step with a registry, in the order it is taken:
 * - `register`: a service that is new, or changed (its old form is deregistered just before);
 * - `rewrite`: unchanged, but the registry no longer holds it as written (purged, edited, lease expired);
 * - `refresh`: only the container's Docker health changed, and the registry reports it itself;
 * - `deregister`: held but no longer wanted (container gone or stopped, port removed, service changed).
 */
export type ServiceAction =
  | { kind: 'register'; service: Service }
  | { kind: 'rewrite'; service: Service }
  | { kind: 'refresh'; service: Service; previous: Service }
  | { kind: 'deregister'; service: Service };
