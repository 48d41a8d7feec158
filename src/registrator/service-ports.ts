import { type Container, networkAddress, type PortBinding, type SwarmService } from '../docker/container';
import { parsePortKey } from '../docker/container-facts';
import { FULL_CONTAINER_ID } from '../docker/container-id';
import type { Protocol, ServiceModelOptions, SkipFn } from './service';
import { type ContainerMetadata, metadataForPort } from './service-metadata';

/**
 * The ports of a container the service model registers, each with its address settled
 * (docs/registrator.md, "Services" and "Networks, Compose and Swarm"): how the container reaches the
 * network, which ports it offers, and per port the ignore rules, -explicit and the address. Pure.
 */

/**
 * How the container reaches the network, which decides the ports and addresses it offers.
 * `container`: it shares the network of `reference`, parsed with it (null: gone; undefined: not looked up).
 */
export type Networking =
  | { kind: 'host' }
  | { kind: 'container'; reference: string; other: Container | null | undefined }
  | { kind: 'internal' }
  | { kind: 'published' };

export interface PortCandidate {
  exposedPort: number;
  proto: Protocol;
  /** Its first binding (an IPv4 one when there is one), before metadata is applied. */
  binding: PortBinding | undefined;
  /** A Swarm service's port published through the routing mesh: `binding.hostPort` is its published port. */
  ingress?: true;
}

/** A Swarm task: its service's ID and name, and the service (null: unreadable; undefined: not looked up). */
export interface SwarmTask {
  serviceId: string;
  serviceName: string;
  service: SwarmService | null | undefined;
}

/** A port that survived ignore rules and -explicit, with its address settled. */
export interface PlannedService {
  candidate: PortCandidate;
  values: Record<string, string>;
  fromPort: Set<string>;
  ip: string;
  port: number;
  hostPort: number | null;
  /** Registered at the node's address for a port the routing mesh publishes (Swarm). */
  ingress: boolean;
}

/** Networks Docker makes itself: a container on none of them is on user-defined networks only. */
const DOCKER_NETWORKS = new Set(['bridge', 'host', 'none']);

/** The Swarm routing mesh's network: every task publishing a port is on it, and no client reaches a task there. */
const INGRESS_NETWORK = 'ingress';

/** Binding addresses that mean "every address of the host". */
const WILDCARD_ADDRESSES = new Set(['', '0.0.0.0', '::']);

/** Ignore values that say "do not ignore" (an empty value also does not ignore). */
const NOT_IGNORED = new Set(['', 'false', '0', 'no']);

export function networkingOf(container: Container, options: ServiceModelOptions): Networking {
  const mode = container.networkMode;
  if (mode.kind === 'host') return { kind: 'host' };
  if (mode.kind === 'container') {
    const other = container.networkContainer;
    // Sharing the network of a container on the host network is being on the host network.
    if (other && other.networkMode.kind === 'host') return { kind: 'host' };
    return { kind: 'container', reference: mode.reference, other };
  }
  return options.internal ? { kind: 'internal' } : { kind: 'published' };
}

/** Attached to networks, none of them Docker's own (`bridge`, `host`, `none`). */
export function onUserNetworksOnly(container: Container): boolean {
  return container.networks.length > 0 && container.networks.every((n) => !DOCKER_NETWORKS.has(n.name));
}

/**
 * The container's address on the network `network` names (its name, or its ID or an ID prefix of 12 or
 * more characters): IPv4, else global IPv6; `''` when it is not on that network or has no address there.
 */
function addressOn(container: Container, network: string): string {
  const { networks } = container;
  const entry =
    networks.find((n) => n.name === network) ?? (network.length >= 12 ? networks.find((n) => n.id.startsWith(network)) : undefined);
  return entry?.ipv4 || entry?.ipv6 || '';
}

/** A Swarm task's service, from Docker's labels on its container and the service the daemon read with it. */
export function swarmTask(container: Container): SwarmTask | undefined {
  const { swarm } = container;
  if (swarm === undefined) return undefined;
  const serviceName = swarm.serviceName || swarm.service?.name || swarm.serviceId;
  return { serviceId: swarm.serviceId, serviceName, service: swarm.service };
}

/**
 * The ports a container offers, sorted. Published: every port whose first binding has a host port
 * (gliderlabs also used only the first binding; Docker lists IPv4 before IPv6). Otherwise every
 * exposed port, whether or not it is also published.
 */
export function portCandidates(
  container: Container,
  networking: Networking,
  swarm: SwarmTask | undefined,
  byNetwork: boolean,
  warn: (reason: string) => void,
  skip: SkipFn,
): PortCandidate[] {
  const listed = container.ports.filter((p) => p.listed);
  // A Swarm task listens on its service's target ports whether Docker lists them on the container or not.
  const servicePorts = swarm?.service?.ports ?? [];
  const targets = servicePorts.flatMap((p) => {
    if (p.targetPort === undefined) return [];
    const spec = `${p.targetPort}/${p.protocol ?? 'tcp'}`;
    return [{ spec, bindings: container.ports.find((listedOrExposed) => listedOrExposed.spec === spec)?.bindings ?? null }];
  });
  const ports =
    networking.kind === 'published' && !byNetwork ? listed : [...container.ports.filter((p) => p.exposed), ...targets, ...listed];

  const byKey = new Map<string, PortCandidate>();
  for (const { spec, bindings } of ports) {
    const parsed = servicePort(spec);
    if (typeof parsed === 'string') {
      warn(parsed);
      continue;
    }
    const binding = preferredBinding(bindings);
    if (networking.kind === 'published' && !byNetwork && !binding?.hostPort) {
      skip(`port ${spec}`, 'exposed but not published (-internal registers exposed ports)'); // nothing to register
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
      if ((p.publishMode ?? 'ingress') !== 'ingress' || p.targetPort === undefined || p.publishedPort === undefined) continue;
      const parsed = servicePort(`${p.targetPort}/${p.protocol ?? 'tcp'}`);
      if (typeof parsed === 'string') {
        warn(`Swarm ${parsed}`);
        continue;
      }
      candidates.push({ ...parsed, binding: { hostIp: '', hostPort: String(p.publishedPort) }, ingress: true });
    }
  }
  return candidates.sort(
    (a, b) =>
      a.exposedPort - b.exposedPort ||
      a.proto.localeCompare(b.proto) ||
      Number(a.binding?.hostPort ?? 0) - Number(b.binding?.hostPort ?? 0),
  );
}

/** The first IPv4 binding of a port, else its first binding (an IPv6-only publication). */
function preferredBinding(bindings: readonly (PortBinding | null)[] | null): PortBinding | undefined {
  const usable = (bindings ?? []).filter((b) => b !== null);
  return usable.find((b) => !(b.hostIp ?? '').includes(':')) ?? usable[0];
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
export interface Reach {
  networking: Networking;
  swarm: SwarmTask | undefined;
  /** On user-defined networks only, with a network named somewhere: the ports may register the container's address. */
  byNetwork: boolean;
}

/** Where a planned port is registered: address, port, host port and whether the routing mesh publishes it. */
type Address = Pick<PlannedService, 'ip' | 'port' | 'hostPort' | 'ingress'>;

/** The network named for one port, and what to tell when the container has no address on it. */
interface NamedNetwork {
  /** SERVICE_<port>_NETWORK or SERVICE_NETWORK; `''` when neither is given. */
  given: string;
  /** The given one, else -network; `''` when none. */
  network: string;
  /** Where it came from, for warnings. */
  source: string;
  /** Warns that the container has no address on it, and what happens to the port instead. */
  missing(fallback: string): void;
}

/** Applies ignore rules and -explicit, then settles the address; undefined means "no service here". */
export function planPort(
  container: Container,
  candidate: PortCandidate,
  reach: Reach,
  metadata: ContainerMetadata,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
  skip: SkipFn,
): PlannedService | undefined {
  const { values, fromPort } = metadataForPort(metadata, candidate.exposedPort);
  const ignoreFrom = fromPort.has('ignore') ? `SERVICE_${candidate.exposedPort}_IGNORE` : 'SERVICE_IGNORE';
  if (isIgnored(values.ignore)) return void skip(`port ${portLabel(candidate)}`, `${ignoreFrom} is ${JSON.stringify(values.ignore)}`);
  if (options.explicit && (values.name ?? '').trim() === '')
    return void skip(`port ${portLabel(candidate)}`, '-explicit is set and it has no SERVICE_NAME or SERVICE_<port>_NAME');
  const named = namedNetwork(container, candidate, values, fromPort, options, warn);
  const address = addressOf(container, candidate, reach, named, options, warn);
  if (address === undefined) return undefined;
  const ip = addressFromLabel(container, options.useIpFromLabel) ?? address.ip;
  if (ip === '') {
    warn(
      `port ${portLabel(candidate)} has no address to register ` +
        `(${reach.networking.kind === 'internal' ? 'the container has no IP' : 'no host address configured'}); skipped`,
    );
    return undefined;
  }
  return { candidate, values, fromPort, ...address, ip };
}

/** The network named for this port: SERVICE_<port>_NETWORK, SERVICE_NETWORK, else -network. */
function namedNetwork(
  container: Container,
  candidate: PortCandidate,
  values: Record<string, string>,
  fromPort: Set<string>,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
): NamedNetwork {
  const given = (values.network ?? '').trim();
  const network = given || (options.network ?? '').trim();
  const source = given === '' ? '-network' : fromPort.has('network') ? `SERVICE_${candidate.exposedPort}_NETWORK` : 'SERVICE_NETWORK';
  const missing = (fallback: string): void => {
    const names = container.networks.map((n) => n.name);
    warn(
      `network ${JSON.stringify(network)} (${source}) is not one the container has an address on ` +
        `(${names.length > 0 ? names.join(', ') : 'none'}); port ${portLabel(candidate)} ${fallback}`,
    );
  };
  return { given, network, source, missing };
}

/** The address of one port by how the container is networked (before -useIpFromLabel); undefined: skipped. */
function addressOf(
  container: Container,
  candidate: PortCandidate,
  reach: Reach,
  named: NamedNetwork,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
): Address | undefined {
  const { networking } = reach;
  switch (networking.kind) {
    case 'host':
    case 'container':
      if (named.given !== '') {
        warn(
          `${named.source} is ignored: the container ${networking.kind === 'host' ? 'uses the host network' : "shares another container's network"}`,
        );
      }
      if (networking.kind === 'host') {
        return { ip: options.hostIp, port: candidate.exposedPort, hostPort: candidate.exposedPort, ingress: false };
      }
      return sharedNetworkAddress(candidate, networking, warn);
    case 'internal': {
      const on = named.network !== '' ? addressOn(container, named.network) : '';
      if (named.network !== '' && on === '') named.missing('is registered at the address it has without a network named');
      const ip = on || (reach.swarm ? taskAddress(container) : containerAddress(container));
      return { ip, port: candidate.exposedPort, hostPort: bindingHostPort(candidate), ingress: false };
    }
    case 'published':
      return publishedAddress(container, candidate, reach, named, options, warn);
  }
}

/** The binding's host port when it is a port number, else null. */
function bindingHostPort(candidate: PortCandidate): number | null {
  const bindingPort = candidate.binding?.hostPort ? Number(candidate.binding.hostPort) : undefined;
  return bindingPort !== undefined && isPortNumber(bindingPort) ? bindingPort : null;
}

/** `--net=container:<ref>`: <ref>'s address and the exposed port; undefined (with a warning) when <ref> has none. */
function sharedNetworkAddress(
  candidate: PortCandidate,
  networking: Extract<Networking, { kind: 'container' }>,
  warn: (reason: string) => void,
): Address | undefined {
  const { reference, other } = networking;
  const ip = other ? containerAddress(other) : '';
  if (ip === '') {
    const why = other === null ? 'which is gone' : other ? 'which has no IP address' : 'whose address is unknown';
    warn(`shares the network of container ${shortRef(reference)}, ${why}; port ${portLabel(candidate)} skipped`);
    return undefined;
  }
  return { ip, port: candidate.exposedPort, hostPort: bindingHostPort(candidate), ingress: false };
}

/**
 * A published port: the host's address and the host port; on user-defined networks only with a network
 * named, the container's address on it and the exposed port. Undefined: not registered.
 */
function publishedAddress(
  container: Container,
  candidate: PortCandidate,
  reach: Reach,
  named: NamedNetwork,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
): Address | undefined {
  if (reach.byNetwork && named.network !== '') {
    const on = addressOn(container, named.network);
    if (on !== '') {
      // The task's own address stands for the port; the routing mesh's registration is not made.
      if (candidate.ingress) return undefined;
      return { ip: on, port: candidate.exposedPort, hostPort: bindingHostPort(candidate), ingress: false };
    }
    named.missing(
      candidate.binding?.hostPort
        ? 'is registered as without a network named (its published port, at the host address)'
        : 'is not published, so it is not registered',
    );
  } else if (named.given !== '') {
    warn(
      `${named.source} is ignored: the container is on one of Docker's own networks, so its published ports ` +
        'are registered at the host address (a network is chosen with -internal, or on user-defined networks only)',
    );
  }
  if (!candidate.binding?.hostPort) return undefined; // exposed, not published, and no network address to use instead
  const hostPort = bindingHostPort(candidate);
  if (hostPort === null) {
    warn(
      `port ${portLabel(candidate)} is published on host port ` +
        `${JSON.stringify(candidate.binding?.hostPort)}, which is not a port number; skipped`,
    );
    return undefined;
  }
  const bindingIp = candidate.binding?.hostIp ?? '';
  // FIX: the host's address even on user-defined networks; the container IP is unreachable with a host port.
  let ip = WILDCARD_ADDRESSES.has(bindingIp) ? options.hostIp : bindingIp;
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
  return { ip, port: hostPort, hostPort, ingress: candidate.ingress === true };
}

/**
 * `-internal`: the container's IPv4 address, else (an IPv6-only container) its global IPv6 address;
 * the default bridge's, else the one on the network it was started on, else the first network's by name.
 */
function containerAddress(container: Container): string {
  const fallback = 'own-network-then-by-name';
  return networkAddress(container, 'ipv4', fallback) || networkAddress(container, 'ipv6', fallback);
}

/**
 * `-internal` on a Swarm task with no network named: its address on its first network by name other than
 * the routing mesh's `ingress`, where no client reaches it; else as any container's.
 */
function taskAddress(container: Container): string {
  for (const n of container.networks) {
    if (n.name === INGRESS_NETWORK) continue;
    const address = n.ipv4 || n.ipv6;
    if (address) return address;
  }
  return containerAddress(container);
}

/** `-useIpFromLabel`: the label's value without a `/prefix`, or undefined when off, absent or empty. */
function addressFromLabel(container: Container, labelName: string): string | undefined {
  if (!labelName || !Object.hasOwn(container.labels, labelName)) return undefined;
  const value = container.labels[labelName];
  if (value.trim() === '') return undefined;
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

export function portLabel(candidate: PortCandidate): string {
  return `${candidate.exposedPort}/${candidate.proto}`;
}
/** A container reference as Docker's CLI shows it: a full ID shortened to 12, a name as is. */
function shortRef(reference: string): string {
  return FULL_CONTAINER_ID.test(reference) ? reference.slice(0, 12) : reference;
}
