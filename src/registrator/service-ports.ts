import {
  ContainerInfo,
  networkAddress,
  networkContainerRef,
  parsePortKey,
  swarmServiceRef,
  type SwarmServiceInfo,
} from '../docker/container-facts';
import { FULL_CONTAINER_ID } from '../docker/container-id';
import type { Protocol, ServiceModelOptions, SkipFn } from './service';
import { SWARM_SERVICE_NAME_LABEL } from './service';
import { type ContainerMetadata, metadataForPort } from './service-metadata';

/**
 * The ports of a container the service model registers, each with its address settled
 * (docs/registrator.md, "Services" and "Networks, Compose and Swarm"): how the container reaches the
 * network, which ports it offers, and per port the ignore rules, -explicit and the address. Pure.
 */

/**
 * How the container reaches the network, which decides the ports and addresses it offers.
 * `container`: it shares the network of `reference`, whose inspect the caller put in
 * `ContainerInfo.networkContainer` (null: gone; undefined: not looked up).
 */
export type Networking =
  | { kind: 'host' }
  | { kind: 'container'; reference: string; other: ContainerInfo | null | undefined }
  | { kind: 'internal' }
  | { kind: 'published' };

/** An exposed port with its first binding, before metadata is applied. */
type PortBinding = { HostIp?: string; HostPort?: string };

export interface PortCandidate {
  exposedPort: number;
  proto: Protocol;
  binding: PortBinding | undefined;
  /** A Swarm service's port published through the routing mesh: `binding.HostPort` is its published port. */
  ingress?: true;
}

/** A Swarm task: its service's ID and name, and the service's inspect (null: unreadable; undefined: not looked up). */
export interface SwarmTask {
  serviceId: string;
  serviceName: string;
  service: SwarmServiceInfo | null | undefined;
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

export function networkingOf(container: ContainerInfo, options: ServiceModelOptions): Networking {
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
export function onUserNetworksOnly(container: ContainerInfo): boolean {
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
export function swarmTask(container: ContainerInfo): SwarmTask | undefined {
  const serviceId = swarmServiceRef(container);
  if (serviceId === undefined) return undefined;
  const label = container.Config?.Labels?.[SWARM_SERVICE_NAME_LABEL];
  const serviceName = (typeof label === 'string' && label) || container.swarmService?.Spec?.Name || serviceId;
  return { serviceId, serviceName, service: container.swarmService };
}

/**
 * The ports a container offers, sorted. Published: every port whose first binding has a host port
 * (gliderlabs also used only the first binding; Docker lists IPv4 before IPv6). Otherwise every
 * exposed port, whether or not it is also published.
 */
export function portCandidates(
  container: ContainerInfo,
  networking: Networking,
  swarm: SwarmTask | undefined,
  byNetwork: boolean,
  warn: (reason: string) => void,
  skip: SkipFn,
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
  container: ContainerInfo,
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
  container: ContainerInfo,
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
    const names = Object.keys(networksOf(container)).sort();
    warn(
      `network ${JSON.stringify(network)} (${source}) is not one the container has an address on ` +
        `(${names.length > 0 ? names.join(', ') : 'none'}); port ${portLabel(candidate)} ${fallback}`,
    );
  };
  return { given, network, source, missing };
}

/** The address of one port by how the container is networked (before -useIpFromLabel); undefined: skipped. */
function addressOf(
  container: ContainerInfo,
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
  const bindingPort = candidate.binding?.HostPort ? Number(candidate.binding.HostPort) : undefined;
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
  container: ContainerInfo,
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
      candidate.binding?.HostPort
        ? 'is registered as without a network named (its published port, at the host address)'
        : 'is not published, so it is not registered',
    );
  } else if (named.given !== '') {
    warn(
      `${named.source} is ignored: the container is on one of Docker's own networks, so its published ports ` +
        'are registered at the host address (a network is chosen with -internal, or on user-defined networks only)',
    );
  }
  if (!candidate.binding?.HostPort) return undefined; // exposed, not published, and no network address to use instead
  const hostPort = bindingHostPort(candidate);
  if (hostPort === null) {
    warn(
      `port ${portLabel(candidate)} is published on host port ` +
        `${JSON.stringify(candidate.binding?.HostPort)}, which is not a port number; skipped`,
    );
    return undefined;
  }
  const bindingIp = String(candidate.binding?.HostIp ?? '');
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

export function portLabel(candidate: PortCandidate): string {
  return `${candidate.exposedPort}/${candidate.proto}`;
}
/** A container reference as Docker's CLI shows it: a full ID shortened to 12, a name as is. */
function shortRef(reference: string): string {
  return FULL_CONTAINER_ID.test(reference) ? reference.slice(0, 12) : reference;
}
