import {
  ContainerInfo,
  containerName as nameOfContainer,
  networkAddress,
  networkContainerRef,
  parsePortKey,
  swarmServiceRef,
  type SwarmServiceInfo,
} from '../docker/engine';
import { segmentProblem } from '../key-segment';

/**
 * The service model (docs/registrator.md, "Services"): an inspected container plus the daemon's options give the services
 * the hamesh writer and the registrator backends register. Pure: no I/O, no clock, no logging;
 * anything odd is reported in `warnings` and never thrown.
 *
 * Where the model departs from gliderlabs/registrator on purpose:
 * - a label beats an env var of the same key (gliderlabs let env win);
 * - the image name drops a digest, and an image given by ID yields the container name;
 * - a generic SERVICE_ID on a container with several services keeps `:<port>[:udp]`;
 * - `-ip` / the host address replace only wildcard bindings (`0.0.0.0`, `::`, none), so a port
 *   bound to one address is registered at that address;
 * - a port published on `::` only gets the host's IPv6 address (gliderlabs gave the IPv4 one);
 * - on user-defined networks a published port keeps the host IP, not the container's;
 * - `--net=container:<ref>` registers at <ref>'s address (any of its networks, or the host's when <ref>
 *   uses the host network); gliderlabs took only <ref>'s default-bridge IP;
 * - tags keep their order, are trimmed, and empty and repeated ones are dropped;
 * - "several services" counts the services actually produced (after ignore rules and -explicit),
 *   not every published port, so ignoring all but one port leaves an unsuffixed name;
 * - ignore values `false`, `0`, `no` (any case) do not ignore;
 * - an image given by short ID (12+ hex of the container's image) yields the container name too;
 * - a service larger than MAX_SERVICE_BYTES is skipped with a warning;
 * - `ignore` is a control key like `name`, `id` and `tags` and is left out of `attrs`;
 * - a name or ID that is not one key segment (key-segment.ts: empty, `.`, `..`, a `/` or a control
 *   character) skips its service with a warning naming where it came from: by the registries' layouts
 *   it would read back as another name or ID, or as a key outside the prefix.
 *
 * Additions gliderlabs did not have (docs/registrator.md, "Networks, Compose and Swarm"):
 * - SERVICE_NETWORK / SERVICE_<port>_NETWORK / `-network` choose the network whose address a container
 *   address is taken from (`-internal`, or a container on user-defined networks only); `network` is a
 *   control key;
 * - `-name-from compose`: Compose's service label names a service without SERVICE_NAME, and its
 *   project label is a tag;
 * - a Swarm task's services are named after its Swarm service; a port published through the routing
 *   mesh is registered at the node's address and the published port, once per node (`origin.swarm.ingress`).
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

const HEALTH_STATES: readonly string[] = ['starting', 'healthy', 'unhealthy'] satisfies ContainerHealth[];

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
export type NameSource = 'image' | 'compose';

/** Compose's labels (v1 and v2 alike) on the containers of a project. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
/** Docker's label naming a Swarm task's service. */
export const SWARM_SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';

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

/**
 * How the container reaches the network, which decides the ports and addresses it offers.
 * `container`: it shares the network of `reference`, whose inspect the caller put in
 * `ContainerInfo.networkContainer` (null: gone; undefined: not looked up).
 */
type Networking =
  | { kind: 'host' }
  | { kind: 'container'; reference: string; other: ContainerInfo | null | undefined }
  | { kind: 'internal' }
  | { kind: 'published' };

/** An exposed port with its first binding, before metadata is applied. */
type PortBinding = { HostIp?: string; HostPort?: string };

interface PortCandidate {
  exposedPort: number;
  proto: Protocol;
  binding: PortBinding | undefined;
  /** A Swarm service's port published through the routing mesh: `binding.HostPort` is its published port. */
  ingress?: true;
}

/** A Swarm task: its service's ID and name, and the service's inspect (null: unreadable; undefined: not looked up). */
interface SwarmTask {
  serviceId: string;
  serviceName: string;
  service: SwarmServiceInfo | null | undefined;
}

/** A port that survived ignore rules and -explicit, with its address settled. */
interface PlannedService {
  candidate: PortCandidate;
  values: Record<string, string>;
  fromPort: Set<string>;
  ip: string;
  port: number;
  hostPort: number | null;
  /** Registered at the node's address for a port the routing mesh publishes (Swarm). */
  ingress: boolean;
}

/**
 * Largest service, as JSON in UTF-8. Registries keep a service whole in one value next to keys
 * holding its name and ID (etcd ownership records, Consul KV records of at most 512 KiB; etcd takes
 * 1.5 MiB per request), so one outsized container (Docker takes names of about 1 MiB) must not be
 * a write that fails for ever.
 */
export const MAX_SERVICE_BYTES = 128 * 1024;

/** Keys that steer the model rather than describe the service; they never reach `attrs`. */
const CONTROL_KEYS = new Set(['name', 'id', 'tags', 'ignore', 'network']);

/** Networks Docker makes itself: a container on none of them is on user-defined networks only. */
const DOCKER_NETWORKS = new Set(['bridge', 'host', 'none']);

/** The Swarm routing mesh's network: every task publishing a port is on it, and no client reaches a task there. */
const INGRESS_NETWORK = 'ingress';

/** Binding addresses that mean "every address of the host". */
const WILDCARD_ADDRESSES = new Set(['', '0.0.0.0', '::']);

/** Ignore values that say "do not ignore" (an empty value also does not ignore). */
const NOT_IGNORED = new Set(['', 'false', '0', 'no']);

/** The services of one inspected container (docs/registrator.md, "Services"). Never throws. */
export function containerServices(container: ContainerInfo, options: ServiceModelOptions): ServiceModelResult {
  // A container without a name (never seen from Docker) is still told apart: by its short ID.
  const containerName = nameOfContainer(container) || shortId(container);
  const warnings: string[] = [];
  const leftOut: LeftOut[] = [];
  const skip = (what: string, reason: string): number => leftOut.push({ what, reason });
  const warn = (reason: string): void => {
    const line = `container ${containerName} (${shortId(container)}): ${reason}`;
    if (!warnings.includes(line)) warnings.push(line);
  };
  try {
    const services = buildServices(container, containerName, options, warn, skip);
    return { services, warnings, leftOut };
  } catch (err) {
    // Inspect data is outside our control; a shape we did not foresee costs this container, not the daemon.
    warn(`could not be turned into services: ${(err as Error)?.message ?? String(err)}`);
    return { services: [], warnings, leftOut };
  }
}

function buildServices(
  container: ContainerInfo,
  containerName: string,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
  skip: (what: string, reason: string) => void,
): Service[] {
  const config = (container.Config ?? {}) as Partial<ContainerInfo['Config']>;
  const metadata = readContainerMetadata(config.Env, config.Labels);
  metadata.problems.forEach(warn);

  const networking = networkingOf(container, options);
  const swarm = swarmTask(container);
  if (swarm?.service === null && networking.kind === 'published') {
    warn(
      `its Swarm service ${swarm.serviceName} could not be read (gone, or this node is not a Swarm manager); ` +
        'ports it publishes through the routing mesh are not registered',
    );
  }
  // On user-defined networks only, a named network makes the container's own address the one registered.
  const networkNamed =
    Boolean(options.network) || metadata.generic.has('network') || [...metadata.perPort.values()].some((m) => m.has('network'));
  const byNetwork = networking.kind === 'published' && networkNamed && onUserNetworksOnly(container);
  const candidates = portCandidates(container, networking, swarm, byNetwork, warn, skip);
  if (candidates.length === 0 && networking.kind === 'internal') skip('container', '-internal is set and it exposes no port');
  const planned: PlannedService[] = [];
  for (const candidate of candidates) {
    const plan = planPort(container, candidate, { networking, swarm, byNetwork }, metadata, options, warn, skip);
    if (plan) planned.push(plan);
  }

  const isGroup = planned.length > 1;
  const labels = (config.Labels ?? {}) as Record<string, unknown>;
  const compose = options.nameFrom === 'compose' ? composeService(labels) : undefined;
  const imageName = imageBasename(config.Image, container.Image);
  const defaultName = swarm?.serviceName || compose?.service || (imageName ?? containerName);
  const defaultNameFrom = swarm?.serviceName
    ? 'the Swarm service name'
    : compose?.service
      ? `label ${COMPOSE_SERVICE_LABEL}`
      : imageName !== undefined
        ? 'the image name'
        : 'the container name';
  const hostname = typeof config.Hostname === 'string' ? config.Hostname : '';
  const usedIds = new Set<string>();
  const services: Service[] = [];
  // The container whose addresses the services use: the network container when it shares one.
  const addressed = (networking.kind === 'container' ? networking.other : undefined) ?? container;
  for (const plan of planned) {
    const { service, from } = toService(plan, {
      container,
      addressed,
      containerName,
      defaultName,
      defaultNameFrom,
      hostname,
      isGroup,
      options,
      swarm,
      compose,
    });
    const notSegments = [segmentWarning('service name', service.name, from.name), segmentWarning('service ID', service.id, from.id)].filter(
      (w) => w !== undefined,
    );
    if (notSegments.length > 0) {
      warn(
        `${notSegments.join(' and ')}: a name or ID is one key segment (not empty, not "." or "..", ` +
          `no "/", no control character); port ${portLabel(plan.candidate)} skipped`,
      );
      continue;
    }
    const bytes = Buffer.byteLength(JSON.stringify(service));
    if (bytes > MAX_SERVICE_BYTES) {
      warn(
        `the service of port ${portLabel(plan.candidate)} is ${bytes} bytes as JSON (a name, ID or attribute ` +
          `that long), more than the ${MAX_SERVICE_BYTES} a registry is given for one service; skipped`,
      );
      continue;
    }
    const id = uniqueId(service, usedIds);
    if (id === undefined) {
      warn(
        `service ID ${JSON.stringify(service.id)} is already used by another ` +
          `port of this container; port ${portLabel(plan.candidate)} skipped`,
      );
      continue;
    }
    service.id = id;
    usedIds.add(id);
    services.push(service);
  }
  return services;
}

function networkingOf(container: ContainerInfo, options: ServiceModelOptions): Networking {
  if (isHostNetwork(container)) return { kind: 'host' };
  const reference = networkContainerRef(container);
  if (reference !== undefined) {
    const other = container.networkContainer;
    // Sharing the network of a container on the host network is being on the host network.
    if (other && isHostNetwork(other)) return { kind: 'host' };
    return { kind: 'container', reference, other };
  }
  return options.internal ? { kind: 'internal' } : { kind: 'published' };
}

function isHostNetwork(container: ContainerInfo): boolean {
  return String(container.HostConfig?.NetworkMode ?? '') === 'host';
}

/** The container's networks by name, as Docker reports them. */
function networksOf(
  container: ContainerInfo,
): Record<string, { IPAddress?: string; GlobalIPv6Address?: string; NetworkID?: string } | undefined> {
  return (container.NetworkSettings?.Networks ?? {}) as Record<
    string,
    { IPAddress?: string; GlobalIPv6Address?: string; NetworkID?: string }
  >;
}

/** Attached to networks, none of them Docker's own (`bridge`, `host`, `none`). */
function onUserNetworksOnly(container: ContainerInfo): boolean {
  const names = Object.keys(networksOf(container));
  return names.length > 0 && names.every((name) => !DOCKER_NETWORKS.has(name));
}

/**
 * The container's address on the network `network` names (its name, or its ID or an ID prefix of 12 or
 * more characters): IPv4, else global IPv6; `''` when it is not on that network or has no address there.
 */
function addressOn(container: ContainerInfo, network: string): string {
  const networks = networksOf(container);
  const byId = network.length >= 12 ? Object.keys(networks).find((name) => networks[name]?.NetworkID?.startsWith(network)) : undefined;
  const entry = networks[network] ?? (byId !== undefined ? networks[byId] : undefined);
  return entry?.IPAddress || entry?.GlobalIPv6Address || '';
}

/** A Swarm task's service, from Docker's labels on its container and the inspect the daemon attached. */
function swarmTask(container: ContainerInfo): SwarmTask | undefined {
  const serviceId = swarmServiceRef(container);
  if (serviceId === undefined) return undefined;
  const label = container.Config?.Labels?.[SWARM_SERVICE_NAME_LABEL];
  const serviceName = (typeof label === 'string' && label) || container.swarmService?.Spec?.Name || serviceId;
  return { serviceId, serviceName, service: container.swarmService };
}

/** Compose's service and project labels; undefined when the container has no service label. */
function composeService(labels: Record<string, unknown>): { service: string; project: string } | undefined {
  const service = typeof labels[COMPOSE_SERVICE_LABEL] === 'string' ? (labels[COMPOSE_SERVICE_LABEL] as string).trim() : '';
  if (service === '') return undefined;
  const project = typeof labels[COMPOSE_PROJECT_LABEL] === 'string' ? (labels[COMPOSE_PROJECT_LABEL] as string).trim() : '';
  return { service, project };
}

/**
 * The ports a container offers, sorted. Published: every port whose first binding has a host port
 * (gliderlabs also used only the first binding; Docker lists IPv4 before IPv6). Otherwise every
 * exposed port, whether or not it is also published.
 */
function portCandidates(
  container: ContainerInfo,
  networking: Networking,
  swarm: SwarmTask | undefined,
  byNetwork: boolean,
  warn: (reason: string) => void,
  skip: (what: string, reason: string) => void,
): PortCandidate[] {
  const exposed = Object.keys(container.Config?.ExposedPorts ?? {});
  const published = (container.NetworkSettings?.Ports ?? {}) as Record<string, unknown>;
  // A Swarm task listens on its service's target ports whether Docker lists them on the container or not.
  const servicePorts = swarm?.service?.Endpoint?.Ports ?? [];
  const targets = servicePorts.flatMap((p) => (typeof p?.TargetPort === 'number' ? [`${p.TargetPort}/${p.Protocol ?? 'tcp'}`] : []));
  const keys = networking.kind === 'published' && !byNetwork ? Object.keys(published) : [...exposed, ...targets, ...Object.keys(published)];

  const byKey = new Map<string, PortCandidate>();
  for (const key of keys) {
    const parsed = servicePort(key);
    if (typeof parsed === 'string') {
      warn(parsed);
      continue;
    }
    const binding = preferredBinding(published[key]);
    if (networking.kind === 'published' && !byNetwork && !binding?.HostPort) {
      skip(`port ${key}`, 'exposed but not published (-internal registers exposed ports)'); // nothing to register
      continue;
    }
    const normalized = `${parsed.exposedPort}/${parsed.proto}`;
    const known = byKey.get(normalized);
    if (!known || (!known.binding && binding)) byKey.set(normalized, { ...parsed, binding });
  }
  const candidates = [...byKey.values()];
  // The routing mesh's ports: not bound on the container, published by the service on every node.
  if (networking.kind === 'published') {
    for (const p of servicePorts) {
      if ((p?.PublishMode ?? 'ingress') !== 'ingress' || typeof p?.TargetPort !== 'number' || typeof p.PublishedPort !== 'number') continue;
      const parsed = servicePort(`${p.TargetPort}/${p.Protocol ?? 'tcp'}`);
      if (typeof parsed === 'string') {
        warn(`Swarm ${parsed}`);
        continue;
      }
      candidates.push({ ...parsed, binding: { HostIp: '', HostPort: String(p.PublishedPort) }, ingress: true });
    }
  }
  return candidates.sort(
    (a, b) =>
      a.exposedPort - b.exposedPort ||
      a.proto.localeCompare(b.proto) ||
      Number(a.binding?.HostPort ?? 0) - Number(b.binding?.HostPort ?? 0),
  );
}

/** The first IPv4 binding of a port, else its first binding (an IPv6-only publication). */
function preferredBinding(bindings: unknown): PortBinding | undefined {
  if (!Array.isArray(bindings)) return undefined;
  const usable = bindings.filter((b): b is PortBinding => Boolean(b) && typeof b === 'object');
  return usable.find((b) => !String(b.HostIp ?? '').includes(':')) ?? usable[0];
}

/** `80/tcp`, `53/udp` or a bare `80` (tcp); anything else is described as a problem. */
function servicePort(key: string): { exposedPort: number; proto: Protocol } | string {
  const parsed = parsePortKey(key);
  if (!parsed) return `port ${JSON.stringify(key)} is not of the form <port>/<proto>; skipped`;
  const exposedPort = parsed.port;
  if (!isPortNumber(exposedPort)) return `port ${JSON.stringify(key)} is outside 1-65535; skipped`;
  const proto = (parsed.proto ?? 'tcp').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp')
    return `port ${JSON.stringify(key)} uses protocol ${proto}, which only tcp and udp services support; skipped`;
  return { exposedPort, proto };
}

/** How a container's ports reach the network, for planPort. */
interface Reach {
  networking: Networking;
  swarm: SwarmTask | undefined;
  /** On user-defined networks only, with a network named somewhere: the ports may register the container's address. */
  byNetwork: boolean;
}

/** Applies ignore rules and -explicit, then settles the address; undefined means "no service here". */
function planPort(
  container: ContainerInfo,
  candidate: PortCandidate,
  reach: Reach,
  metadata: ContainerMetadata,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
  skip: (what: string, reason: string) => void,
): PlannedService | undefined {
  const { networking, swarm } = reach;
  const { values, fromPort } = metadataForPort(metadata, candidate.exposedPort);
  const ignoreFrom = fromPort.has('ignore') ? `SERVICE_${candidate.exposedPort}_IGNORE` : 'SERVICE_IGNORE';
  if (isIgnored(values.ignore)) return void skip(`port ${portLabel(candidate)}`, `${ignoreFrom} is ${JSON.stringify(values.ignore)}`);
  if (options.explicit && (values.name ?? '').trim() === '')
    return void skip(`port ${portLabel(candidate)}`, '-explicit is set and it has no SERVICE_NAME or SERVICE_<port>_NAME');

  // The network named for this port: SERVICE_<port>_NETWORK, SERVICE_NETWORK, else -network.
  const givenNetwork = (values.network ?? '').trim();
  const network = givenNetwork || (options.network ?? '').trim();
  const networkSource =
    givenNetwork === '' ? '-network' : fromPort.has('network') ? `SERVICE_${candidate.exposedPort}_NETWORK` : 'SERVICE_NETWORK';
  const networkMissing = (fallback: string): void => {
    const names = Object.keys(networksOf(container)).sort();
    warn(
      `network ${JSON.stringify(network)} (${networkSource}) is not one the container has an address on ` +
        `(${names.length > 0 ? names.join(', ') : 'none'}); port ${portLabel(candidate)} ${fallback}`,
    );
  };

  const bindingIp = String(candidate.binding?.HostIp ?? '');
  const bindingPort = candidate.binding?.HostPort ? Number(candidate.binding.HostPort) : undefined;
  let ip: string;
  let port: number;
  let hostPort: number | null = bindingPort !== undefined && isPortNumber(bindingPort) ? bindingPort : null;
  let ingress = false;
  switch (networking.kind) {
    case 'host':
    case 'container':
      if (givenNetwork !== '') {
        warn(
          `${networkSource} is ignored: the container ${networking.kind === 'host' ? 'uses the host network' : "shares another container's network"}`,
        );
      }
      if (networking.kind === 'host') {
        ip = options.hostIp;
        port = candidate.exposedPort;
        hostPort = candidate.exposedPort;
        break;
      }
      {
        const { reference, other } = networking;
        ip = other ? containerAddress(other) : '';
        port = candidate.exposedPort;
        if (ip === '') {
          const why = other === null ? 'which is gone' : other ? 'which has no IP address' : 'whose address is unknown';
          warn(`shares the network of container ${shortRef(reference)}, ${why}; port ${portLabel(candidate)} skipped`);
          return undefined;
        }
      }
      break;
    case 'internal': {
      const on = network !== '' ? addressOn(container, network) : '';
      if (network !== '' && on === '') networkMissing('is registered at the address it has without a network named');
      ip = on || (swarm ? taskAddress(container) : containerAddress(container));
      port = candidate.exposedPort;
      break;
    }
    case 'published': {
      if (reach.byNetwork && network !== '') {
        const on = addressOn(container, network);
        if (on !== '') {
          // The task's own address stands for the port; the routing mesh's registration is not made.
          if (candidate.ingress) return undefined;
          ip = on;
          port = candidate.exposedPort;
          break;
        }
        networkMissing(
          candidate.binding?.HostPort
            ? 'is registered as without a network named (its published port, at the host address)'
            : 'is not published, so it is not registered',
        );
      } else if (givenNetwork !== '') {
        warn(
          `${networkSource} is ignored: the container is on one of Docker's own networks, so its published ports ` +
            'are registered at the host address (a network is chosen with -internal, or on user-defined networks only)',
        );
      }
      if (!candidate.binding?.HostPort) return undefined; // exposed, not published, and no network address to use instead
      if (hostPort === null) {
        warn(
          `port ${portLabel(candidate)} is published on host port ` +
            `${JSON.stringify(candidate.binding?.HostPort)}, which is not a port number; skipped`,
        );
        return undefined;
      }
      // FIX: the host's address even on user-defined networks; the container IP is unreachable with a host port.
      ip = WILDCARD_ADDRESSES.has(bindingIp) ? options.hostIp : bindingIp;
      // Preferred only when the port has no IPv4 binding: published on IPv6 alone, served by no IPv4 address.
      if (bindingIp === '::') {
        if (options.hostIpv6) ip = options.hostIpv6;
        else if (ip !== '' && addressFromLabel(container, options.useIpFromLabel) === undefined) {
          warn(
            `port ${portLabel(candidate)} is published on :: only and the host ` +
              `has no IPv6 address; registered at ${ip}, which may not serve it`,
          );
        }
      }
      port = hostPort;
      ingress = candidate.ingress === true;
      break;
    }
  }

  ip = addressFromLabel(container, options.useIpFromLabel) ?? ip;
  if (ip === '') {
    warn(
      `port ${portLabel(candidate)} has no address to register ` +
        `(${networking.kind === 'internal' ? 'the container has no IP' : 'no host address configured'}); skipped`,
    );
    return undefined;
  }
  return { candidate, values, fromPort, ip, port, hostPort, ingress };
}

/** Longest part of a value quoted in a warning; a longer one is cut there, its length said. */
const SHOWN_CHARS = 200;

/** `service name "a/b" (SERVICE_NAME) contains "/"`, or undefined when `value` is one key segment. */
function segmentWarning(what: string, value: string, from: string): string | undefined {
  const problem = segmentProblem(value);
  if (problem === undefined) return undefined;
  // JSON-quoted, DEL too (JSON leaves it raw), so the log line shows what the value holds.
  const escaped = (text: string) => quote(text).replaceAll('\u007f', '\\u007f');
  const shown = value.length > SHOWN_CHARS ? `${escaped(value.slice(0, SHOWN_CHARS))}... (${value.length} characters)` : escaped(value);
  return `${what} ${shown} (${from}) ${problem}`;
}

interface ServiceContext {
  container: ContainerInfo;
  /** The container whose network the services are on (itself, or the one it shares a network with). */
  addressed: ContainerInfo;
  containerName: string;
  defaultName: string;
  /** Where the default name came from, for warnings: `the image name`, `label com.docker.compose.service`, ... */
  defaultNameFrom: string;
  hostname: string;
  isGroup: boolean;
  options: ServiceModelOptions;
  swarm: SwarmTask | undefined;
  /** Compose's labels, under `-name-from compose`. */
  compose: { service: string; project: string } | undefined;
}

/** The service of one planned port, and where its name and ID came from (`SERVICE_NAME`, `SERVICE_80_ID`, a default). */
function toService(plan: PlannedService, context: ServiceContext): { service: Service; from: { name: string; id: string } } {
  const { candidate, values, fromPort } = plan;
  const { options, isGroup } = context;
  const udp = candidate.proto === 'udp';
  const portSuffix = `${candidate.exposedPort}${udp ? ':udp' : ''}`;

  const givenName = (values.name ?? '').trim();
  const nameFromPort = fromPort.has('name') && givenName !== '';
  let name = givenName !== '' ? givenName : context.defaultName;
  if (isGroup && !nameFromPort) name += `-${candidate.exposedPort}`;

  const givenId = (values.id ?? '').trim();
  // A port the routing mesh publishes is the Swarm service's on this node, whichever task gives it.
  let id = plan.ingress
    ? `${options.host}:swarm:${context.swarm?.serviceName}:${plan.port}${udp ? ':udp' : ''}`
    : `${options.host}:${context.containerName}:${portSuffix}`;
  if (givenId !== '') {
    // FIX: one generic SERVICE_ID shared by several services would make them overwrite each other.
    id = isGroup && !fromPort.has('id') ? `${givenId}:${portSuffix}` : givenId;
  }

  // `-name-from compose`: a service named after its Compose service is tagged with its project.
  const project = givenName === '' && !context.swarm && context.compose?.project ? [context.compose.project] : [];
  const tags = unique([...splitTags(values.tags ?? ''), ...project, ...splitTags(options.tags ?? ''), ...(udp ? ['udp'] : [])]);
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) if (!CONTROL_KEYS.has(key)) attrs[key] = value;

  const service: Service = {
    id,
    name,
    port: plan.port,
    ip: plan.ip,
    tags,
    attrs,
    origin: {
      containerId: String(context.container.Id ?? ''),
      containerName: context.containerName,
      hostPort: plan.hostPort,
      exposedPort: candidate.exposedPort,
      proto: candidate.proto,
      hostIp: String(candidate.binding?.HostIp ?? ''),
      hostname: context.hostname,
    },
  };
  const ipv6 = networkAddress(context.addressed, 'GlobalIPv6Address', 'own-network-then-by-name');
  if (ipv6) service.origin.ipv6 = ipv6;
  if (context.swarm) {
    const { serviceId, serviceName } = context.swarm;
    service.origin.swarm = plan.ingress ? { serviceId, serviceName, ingress: true } : { serviceId, serviceName };
  }
  const health = (context.container.State as { Health?: { Status?: unknown } } | undefined)?.Health?.Status;
  if (typeof health === 'string' && HEALTH_STATES.includes(health)) service.origin.health = health as ContainerHealth;
  if (options.ttl !== undefined && options.ttl > 0) service.ttl = options.ttl;
  const from = {
    name: givenName === '' ? context.defaultNameFrom : nameFromPort ? `SERVICE_${candidate.exposedPort}_NAME` : 'SERVICE_NAME',
    id:
      givenId !== ''
        ? fromPort.has('id')
          ? `SERVICE_${candidate.exposedPort}_ID`
          : 'SERVICE_ID'
        : plan.ingress
          ? 'the default ID, <host>:swarm:<Swarm service>:<port>'
          : 'the default ID, <host>:<container name>:<port>',
  };
  return { service, from };
}

/**
 * The ID to use, or undefined when it collides. A port-specific SERVICE_<port>_ID applies to the
 * port's tcp and udp alike, so the udp one gets `:udp` like a default ID rather than being lost.
 */
function uniqueId(service: Service, used: Set<string>): string | undefined {
  if (!used.has(service.id)) return service.id;
  const withUdp = `${service.id}:udp`;
  if (service.origin.proto === 'udp' && !used.has(withUdp)) return withUdp;
  return undefined;
}

/**
 * `-internal`: the container's IPv4 address, else (an IPv6-only container) its global IPv6 address;
 * the default bridge's, else the one on the network it was started on, else the first network's by name.
 */
function containerAddress(container: ContainerInfo): string {
  const fallback = 'own-network-then-by-name';
  return networkAddress(container, 'IPAddress', fallback) || networkAddress(container, 'GlobalIPv6Address', fallback);
}

/**
 * `-internal` on a Swarm task with no network named: its address on its first network by name other than
 * the routing mesh's `ingress`, where no client reaches it; else as any container's.
 */
function taskAddress(container: ContainerInfo): string {
  const networks = networksOf(container);
  for (const name of Object.keys(networks).sort()) {
    if (name === INGRESS_NETWORK) continue;
    const address = networks[name]?.IPAddress || networks[name]?.GlobalIPv6Address;
    if (address) return address;
  }
  return containerAddress(container);
}

/** `-useIpFromLabel`: the label's value without a `/prefix`, or undefined when off, absent or empty. */
function addressFromLabel(container: ContainerInfo, labelName: string): string | undefined {
  if (!labelName) return undefined;
  const value = container.Config?.Labels?.[labelName];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const address = value.trim();
  const slash = address.lastIndexOf('/');
  return slash === -1 ? address : address.slice(0, slash);
}

function isIgnored(value: string | undefined): boolean {
  return value !== undefined && !NOT_IGNORED.has(value.trim().toLowerCase());
}

function isPortNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function portLabel(candidate: PortCandidate): string {
  return `${candidate.exposedPort}/${candidate.proto}`;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function shortId(container: ContainerInfo): string {
  return String(container?.Id ?? '').slice(0, 12);
}

/** A container reference as Docker's CLI shows it: a full ID shortened to 12, a name as is. */
function shortRef(reference: string): string {
  return /^[0-9a-f]{64}$/.test(reference) ? reference.slice(0, 12) : reference;
}

// --- SERVICE_* metadata ---

/**
 * Service metadata (docs/registrator.md, "Services"): `SERVICE_<KEY>` and `SERVICE_<port>_<KEY>` taken from a container's
 * env and labels.
 *
 * Rules:
 * - the prefix `SERVICE_` is matched case-sensitively; the rest is lowercased to form the key;
 * - `SERVICE_<digits>_<key>` applies to the exposed port `<digits>` only (tcp and udp alike) and
 *   beats the generic `SERVICE_<key>` for that port;
 * - between an env var and a label giving the same key (same port scope), the label wins;
 * - odd entries (`SERVICE_=x`, `SERVICE_80_=x`, `SERVICE_80=x`, a port outside 1-65535, a signed
 *   port such as `SERVICE_-1_NAME`, an env entry `SERVICE_X` without `=`) are skipped and
 *   reported, never thrown;
 * - anything else after `SERVICE_` is a generic key (`SERVICE_abc_NAME` is the attribute `abc_name`).
 */

const PREFIX = 'SERVICE_';

/** Where a metadata entry came from; used only to explain skipped entries. */
type Source = 'env' | 'label';

/** All `SERVICE_*` metadata of one container, before a port is chosen. */
export interface ContainerMetadata {
  /** `SERVICE_<key>` values, key lowercased. */
  generic: Map<string, string>;
  /** `SERVICE_<port>_<key>` values by exposed port number, key lowercased. */
  perPort: Map<number, Map<string, string>>;
  /** Why some entries were skipped; the caller prefixes the container. */
  problems: string[];
}

/** The metadata that applies to one exposed port. */
export interface PortMetadata {
  /** Generic values overlaid with the port-specific ones. */
  values: Record<string, string>;
  /** Keys whose value came from a `SERVICE_<port>_<key>` entry. */
  fromPort: Set<string>;
}

/**
 * Reads every `SERVICE_*` entry from `env` (Docker's `KEY=value` list) and `labels`.
 * Env is applied first and labels second, so a label overrides an env var with the same key.
 * Labels are read in sorted order so that colliding spellings (`SERVICE_NAME`, `SERVICE_name`)
 * resolve the same way on every run.
 */
export function readContainerMetadata(env: unknown, labels: unknown): ContainerMetadata {
  const metadata: ContainerMetadata = { generic: new Map(), perPort: new Map(), problems: [] };
  for (const entry of Array.isArray(env) ? env : []) {
    if (typeof entry !== 'string') continue;
    const eq = entry.indexOf('=');
    if (eq === -1) {
      // Only our own keys are worth a word; other bare env names are none of our business.
      if (entry.startsWith(PREFIX)) metadata.problems.push(`env entry ${quote(entry)} has no "=" and no value; ignored`);
      continue;
    }
    addEntry(metadata, entry.slice(0, eq), entry.slice(eq + 1), 'env');
  }
  if (labels && typeof labels === 'object') {
    const record = labels as Record<string, unknown>;
    for (const name of Object.keys(record).sort()) {
      const value = record[name];
      addEntry(metadata, name, typeof value === 'string' ? value : String(value ?? ''), 'label');
    }
  }
  return metadata;
}

function addEntry(metadata: ContainerMetadata, rawKey: string, value: string, source: Source): void {
  if (!rawKey.startsWith(PREFIX)) return;
  const key = rawKey.slice(PREFIX.length).toLowerCase();
  if (key === '') {
    metadata.problems.push(`${source} ${quote(rawKey)} has no key after SERVICE_; ignored`);
    return;
  }
  // A sign makes it a port number to gliderlabs (Go's Atoi) that matches no port; say so rather than keep it as an attribute.
  const portScoped = /^([+-]?\d+)(?:_(.*))?$/s.exec(key);
  if (!portScoped) {
    metadata.generic.set(key, value);
    return;
  }
  const [, digits, portKey] = portScoped;
  if (portKey === undefined || portKey === '') {
    metadata.problems.push(`${source} ${quote(rawKey)} has no key after the port number; ignored`);
    return;
  }
  if (!/^\d+$/.test(digits)) {
    metadata.problems.push(`${source} ${quote(rawKey)} names port ${digits}, which is not a port number; ignored`);
    return;
  }
  const port = Number(digits);
  if (!Number.isSafeInteger(port) || port < 1 || port > 65535) {
    metadata.problems.push(`${source} ${quote(rawKey)} names port ${digits}, outside 1-65535; ignored`);
    return;
  }
  let forPort = metadata.perPort.get(port);
  if (!forPort) metadata.perPort.set(port, (forPort = new Map()));
  forPort.set(portKey, value);
}

/** The metadata for exposed port `port`: generic values, with port-specific ones on top. */
export function metadataForPort(metadata: ContainerMetadata, port: number): PortMetadata {
  const values: Record<string, string> = Object.fromEntries(metadata.generic);
  const fromPort = new Set<string>();
  for (const [key, value] of metadata.perPort.get(port) ?? []) {
    values[key] = value;
    fromPort.add(key);
  }
  return { values, fromPort };
}

/**
 * Splits a tag list on commas not preceded by a backslash; `\,` becomes a literal comma.
 * Tags are trimmed and empty ones dropped; order is kept.
 */
export function splitTags(list: string): string[] {
  const tags: string[] = [];
  let current = '';
  for (const ch of list) {
    if (ch === ',' && current.endsWith('\\')) {
      current = current.slice(0, -1) + ',';
    } else if (ch === ',') {
      tags.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  tags.push(current);
  return tags.map((t) => t.trim()).filter((t) => t !== '');
}

/** A JSON-quoted form, so control characters and odd bytes in a key stay readable in a log line. */
function quote(text: string): string {
  return JSON.stringify(text);
}

// --- The default service name ---

/**
 * The default service name of a container (docs/registrator.md, "Services"): the image's basename without registry,
 * path, tag or digest. An image given by ID says nothing about the service, so the container
 * name is used instead.
 *
 *   redis                                   -> redis
 *   redis:7-alpine                          -> redis
 *   redis@sha256:<hex>                      -> redis
 *   registry.example.com:5000/team/app:1.2  -> app
 *   sha256:<hex> or a bare 64-hex ID        -> <containerName>
 *   a short ID (12+ hex) of `imageId`       -> <containerName>
 *
 * `imageId` is inspect's `.Image` (`sha256:<hex>`), the image the reference resolved to.
 */
export function defaultServiceName(image: unknown, containerName: string, imageId?: unknown): string {
  return imageBasename(image, imageId) ?? containerName;
}

/** The image's basename (see defaultServiceName), or undefined when the container name stands in for it. */
function imageBasename(image: unknown, imageId: unknown): string | undefined {
  const reference = typeof image === 'string' ? image.trim() : '';
  if (reference === '' || isImageId(reference) || isShortIdOf(reference, imageId)) return undefined;
  const withoutDigest = reference.split('@')[0];
  // The last path segment; a registry's ":port" lives in an earlier segment, so the first ':' left is the tag.
  const basename = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const name = basename.split(':')[0];
  return name === '' ? undefined : name;
}

/** `sha256:<hex>` or a full 64-hex ID. */
function isImageId(reference: string): boolean {
  return /^sha256:[0-9a-f]+$/i.test(reference) || /^[0-9a-f]{64}$/i.test(reference);
}

/**
 * `docker run a7d1531d1e03`: a hex prefix of the image the container runs. Shorter than Docker's
 * 12-character short ID, a repository name (`db`, `cafe`) could match its own ID by chance.
 */
function isShortIdOf(reference: string, imageId: unknown): boolean {
  if (typeof imageId !== 'string' || !/^[0-9a-f]{12,64}$/i.test(reference)) return false;
  return imageId
    .toLowerCase()
    .replace(/^sha256:/, '')
    .startsWith(reference.toLowerCase());
}

// --- What to do about a container's services: held -> wanted actions ---

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

export interface ServicePlanInput {
  /** The container's services as the registry holds them, by service id. */
  held: ReadonlyMap<string, Service>;
  /** The services the container should have there now, by service id. */
  wanted: ReadonlyMap<string, Service>;
  /** Held services (by identity) the registry no longer holds as written. */
  broken: ReadonlySet<Service>;
  /** Whether the registry reports this service's Docker health itself (see Backend.followsDockerHealth). */
  followsDockerHealth(service: Service): boolean;
}

/** Equal apart from the container's Docker health. */
function sameButHealth(a: Service, b: Service): boolean {
  return (
    JSON.stringify({ ...a, origin: { ...a.origin, health: undefined } }) ===
    JSON.stringify({ ...b, origin: { ...b.origin, health: undefined } })
  );
}

/**
 * The actions that take a container's services from `held` to `wanted` (docs/registrator.md, "Services"). Pure: the service
 * writer carries them out, `registrator diff` shows them. Held services come first (refreshed,
 * rewritten or deregistered), then the wanted ones that are not held as they are.
 */
export function planServices(input: ServicePlanInput): ServiceAction[] {
  const actions: ServiceAction[] = [];
  const kept = new Set<string>();
  for (const [id, service] of input.held) {
    const next = input.wanted.get(id);
    if (next && input.followsDockerHealth(next) && sameButHealth(next, service) && next.origin.health !== service.origin.health) {
      // Only the health changed: the registry is told in place, the service stays registered.
      actions.push({ kind: 'refresh', service: next, previous: service });
      kept.add(id);
      continue;
    }
    if (next && JSON.stringify(next) === JSON.stringify(service)) {
      if (input.broken.has(service)) actions.push({ kind: 'rewrite', service });
      kept.add(id);
      continue;
    }
    actions.push({ kind: 'deregister', service });
  }
  for (const [id, service] of input.wanted) if (!kept.has(id)) actions.push({ kind: 'register', service });
  return actions;
}
