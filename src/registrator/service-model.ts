import { COMPOSE_SERVICE_LABEL, type Container, networkAddress } from '../docker/container';
import { segmentProblem } from '../key-segment';
import {
  type ContainerHealth,
  HEALTH_STATES,
  MAX_SERVICE_BYTES,
  type LeftOut,
  type Service,
  type ServiceModelOptions,
  type ServiceModelResult,
  type SkipFn,
} from './service';
import { quote, readContainerMetadata, splitTags } from './service-metadata';
import { composeService, imageBasename } from './service-name';
import {
  networkingOf,
  onUserNetworksOnly,
  planPort,
  type PlannedService,
  portCandidates,
  portLabel,
  swarmTask,
  type SwarmTask,
} from './service-ports';

/**
 * The service model (docs/registrator.md, "Services"): a container (parsed once, docker/container.ts) plus the daemon's options give the services
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

/** Keys that steer the model rather than describe the service; they never reach `attrs`. */
const CONTROL_KEYS = new Set(['name', 'id', 'tags', 'ignore', 'network']);

/** The services of one container (docs/registrator.md, "Services"). Never throws. */
export function containerServices(container: Container, options: ServiceModelOptions): ServiceModelResult {
  // A container without a name (never seen from Docker) is still told apart: by its short ID.
  const containerName = container.name || shortId(container);
  const warnings: string[] = [];
  const leftOut: LeftOut[] = [];
  const skip: SkipFn = (what, reason) => void leftOut.push({ what, reason });
  const warn = (reason: string): void => {
    const line = `container ${containerName} (${shortId(container)}): ${reason}`;
    if (!warnings.includes(line)) warnings.push(line);
  };
  try {
    const services = buildServices(container, containerName, options, warn, skip);
    return { services, warnings, leftOut };
  } catch (err) {
    // A case the model did not foresee costs this container, not the daemon.
    warn(`could not be turned into services: ${(err as Error)?.message ?? String(err)}`);
    return { services: [], warnings, leftOut };
  }
}

function buildServices(
  container: Container,
  containerName: string,
  options: ServiceModelOptions,
  warn: (reason: string) => void,
  skip: SkipFn,
): Service[] {
  const metadata = readContainerMetadata(container.env, container.labels);
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
  const compose = options.nameFrom === 'compose' ? composeService(container.compose) : undefined;
  const imageName = imageBasename(container.image.configured, container.image.id);
  const defaultName = swarm?.serviceName || compose?.service || (imageName ?? containerName);
  const defaultNameFrom = swarm?.serviceName
    ? 'the Swarm service name'
    : compose?.service
      ? `label ${COMPOSE_SERVICE_LABEL}`
      : imageName !== undefined
        ? 'the image name'
        : 'the container name';
  const hostname = container.hostname;
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
  container: Container;
  /** The container whose network the services are on (itself, or the one it shares a network with). */
  addressed: Container;
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
      containerId: context.container.id,
      containerName: context.containerName,
      hostPort: plan.hostPort,
      exposedPort: candidate.exposedPort,
      proto: candidate.proto,
      hostIp: candidate.binding?.hostIp ?? '',
      hostname: context.hostname,
    },
  };
  const ipv6 = networkAddress(context.addressed, 'ipv6', 'own-network-then-by-name');
  if (ipv6) service.origin.ipv6 = ipv6;
  if (context.swarm) {
    const { serviceId, serviceName } = context.swarm;
    service.origin.swarm = plan.ingress ? { serviceId, serviceName, ingress: true } : { serviceId, serviceName };
  }
  const { health } = context.container.state;
  if (health !== undefined && HEALTH_STATES.includes(health)) service.origin.health = health as ContainerHealth;
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

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function shortId(container: Container): string {
  return container.id.slice(0, 12);
}
