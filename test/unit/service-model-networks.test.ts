import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainer } from '../../src/docker/container';
import type { ContainerInfo, SwarmServiceInfo } from '../../src/docker/container-facts';
import type { Service, ServiceModelOptions } from '../../src/registrator/service';
import { containerServices } from '../../src/registrator/service-model';
import { ID, inspect } from '../fixtures/inspect';

/**
 * The service model's additions for networks, Compose and Swarm (docs/registrator.md, "Networks,
 * Compose and Swarm"), case by case, as test/unit/service-model.test.ts does for the rest.
 */

const HOST = 'h1';
const HOST_IP = '10.0.0.5';
const SHORT_ID = ID.slice(0, 12);
const FRONT_IP = '172.20.0.5';
const BACK_IP = '172.21.0.7';
const FRONT_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const TWO_NETWORKS = {
  front: { IPAddress: FRONT_IP, NetworkID: FRONT_ID },
  back: { IPAddress: BACK_IP },
};

function options(o: Partial<ServiceModelOptions> = {}): ServiceModelOptions {
  return { host: HOST, hostIp: HOST_IP, internal: false, explicit: false, tags: '', useIpFromLabel: '', ...o };
}

function exposed(...keys: string[]): Record<string, object> {
  return Object.fromEntries(keys.map((k) => [k, {}]));
}

function published(ports: Record<string, string>): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  return Object.fromEntries(Object.entries(ports).map(([key, hostPort]) => [key, [{ HostIp: '0.0.0.0', HostPort: hostPort }]]));
}

type Expected = Partial<Omit<Service, 'origin'>> & Partial<Service['origin']> & { port: number; ip: string };

/** A service of container fx (image test/busybox:1) as a case expects it; unnamed fields take the usual defaults. */
function service(e: Expected): Service {
  const exposedPort = e.exposedPort ?? 80;
  const proto = e.proto ?? 'tcp';
  const s: Service = {
    id: e.id ?? `h1:fx:${exposedPort}${proto === 'udp' ? ':udp' : ''}`,
    name: e.name ?? 'busybox',
    port: e.port,
    ip: e.ip,
    tags: e.tags ?? [],
    attrs: e.attrs ?? {},
    origin: {
      containerId: ID,
      containerName: e.containerName ?? 'fx',
      hostPort: e.hostPort === undefined ? null : e.hostPort,
      exposedPort,
      proto,
      hostIp: e.hostIp ?? '',
      hostname: '',
    },
  };
  if (e.ipv6) s.origin.ipv6 = e.ipv6;
  if (e.swarm) s.origin.swarm = e.swarm;
  return s;
}

/** Container fx on the user-defined networks front and back only (as Compose or `docker network connect` leave it). */
function onTwoNetworks(o: Parameters<typeof inspect>[0] = {}): ContainerInfo {
  return inspect({ NetworkMode: 'front', Networks: TWO_NETWORKS, ...o });
}

// --- Swarm ---

const SWARM_ID = 'k3x9q8w7e6r5t4y3u2i1o0p9a';
const SWARM_LABELS = {
  'com.docker.swarm.service.id': SWARM_ID,
  'com.docker.swarm.service.name': 'web',
  'com.docker.swarm.task.id': 'm4wdovbf5ddhulhv1jqvmz302',
  'com.docker.swarm.task.name': 'web.2.m4wdovbf5ddhulhv1jqvmz302',
};
const TASK_NAME = '/web.2.m4wdovbf5ddhulhv1jqvmz302';

function swarmService(
  ports: Array<{ TargetPort: number; PublishedPort: number; PublishMode?: 'ingress' | 'host'; Protocol?: 'tcp' | 'udp' }>,
) {
  const Ports = ports.map((p) => ({ Protocol: 'tcp' as const, PublishMode: 'ingress' as const, ...p }));
  return { ID: SWARM_ID, Spec: { Name: 'web', EndpointSpec: { Ports } }, Endpoint: { Ports } } as SwarmServiceInfo;
}

/** A task container of Swarm service web, as Docker 20.10 reports one: no bindings for mesh ports, on `ingress` (and `networks`). */
function task(
  service: SwarmServiceInfo | null | undefined,
  o: Parameters<typeof inspect>[0] = {},
  networks: Record<string, { IPAddress: string }> = { ingress: { IPAddress: '10.0.0.9' } },
): ContainerInfo {
  const info = inspect({ Name: TASK_NAME, NetworkMode: 'default', Networks: networks, ...o, Labels: { ...SWARM_LABELS, ...o.Labels } });
  return service === undefined ? info : { ...info, swarmService: service };
}
const TASK = 'web.2.m4wdovbf5ddhulhv1jqvmz302';
const INGRESS = { serviceId: SWARM_ID, serviceName: 'web', ingress: true as const };
const TASK_OF = { serviceId: SWARM_ID, serviceName: 'web' };

type Case = {
  name: string;
  container: ContainerInfo;
  options?: Partial<ServiceModelOptions>;
  expected: Service[];
  /** Each warning must contain the matching text, in order; no other warnings. */
  warnings?: string[];
};

const COMPOSE = { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'shop', 'com.docker.compose.version': '1.29.2' };
const WEB = { ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }) };

const cases: Case[] = [
  // Choosing the network
  {
    name: 'network: -internal on two user-defined networks, SERVICE_NETWORK=back: the address on back',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp'), Env: ['SERVICE_NETWORK=back'] }),
    options: { internal: true },
    expected: [service({ port: 80, ip: BACK_IP })],
  },
  {
    name: 'network: the same container with SERVICE_NETWORK=front: the address on front',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp'), Labels: { SERVICE_NETWORK: 'front' } }),
    options: { internal: true },
    expected: [service({ port: 80, ip: FRONT_IP })],
  },
  {
    name: 'network: -network gives the default, SERVICE_NETWORK beats it',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp', '443/tcp'), Env: ['SERVICE_443_NETWORK=front'] }),
    options: { internal: true, network: 'back' },
    expected: [
      service({ name: 'busybox-80', port: 80, ip: BACK_IP }),
      service({ name: 'busybox-443', port: 443, ip: FRONT_IP, exposedPort: 443 }),
    ],
  },
  {
    name: 'network: SERVICE_<port>_NETWORK beats SERVICE_NETWORK for its port only',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp', '443/tcp'), Env: ['SERVICE_NETWORK=back', 'SERVICE_80_NETWORK=front'] }),
    options: { internal: true },
    expected: [
      service({ name: 'busybox-80', port: 80, ip: FRONT_IP }),
      service({ name: 'busybox-443', port: 443, ip: BACK_IP, exposedPort: 443 }),
    ],
  },
  {
    name: 'network: named by ID prefix (12 characters)',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp'), Env: [`SERVICE_NETWORK=${FRONT_ID.slice(0, 12)}`] }),
    options: { internal: true },
    expected: [service({ port: 80, ip: FRONT_IP })],
  },
  {
    name: 'network: an IPv6-only network gives its global IPv6 address',
    container: inspect({
      NetworkMode: 'v6',
      Networks: { v4: { IPAddress: '172.22.0.2' }, v6: { IPAddress: '', GlobalIPv6Address: 'fd00:beef::2' } },
      ExposedPorts: exposed('80/tcp'),
      Env: ['SERVICE_NETWORK=v6'],
    }),
    options: { internal: true },
    expected: [service({ port: 80, ip: 'fd00:beef::2', ipv6: 'fd00:beef::2' })],
  },
  {
    name: 'network: user-defined networks only, no -internal: a named network registers every exposed port at that address',
    container: onTwoNetworks({
      ExposedPorts: exposed('80/tcp', '9000/tcp'),
      Ports: { ...published({ '80/tcp': '8080' }), '9000/tcp': null },
      Env: ['SERVICE_NETWORK=back'],
    }),
    expected: [
      service({ name: 'busybox-80', port: 80, ip: BACK_IP, hostPort: 8080, hostIp: '0.0.0.0' }),
      service({ name: 'busybox-9000', port: 9000, ip: BACK_IP, exposedPort: 9000 }),
    ],
  },
  {
    name: 'network: user-defined networks only, -network default: the same',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }) }),
    options: { network: 'front' },
    expected: [service({ port: 80, ip: FRONT_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },
  {
    name: 'network: user-defined networks only, none named: unchanged (published port at the host address)',
    container: onTwoNetworks({
      ExposedPorts: exposed('80/tcp', '9000/tcp'),
      Ports: { ...published({ '80/tcp': '8080' }), '9000/tcp': null },
    }),
    expected: [service({ port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },
  {
    name: 'network: -internal, a network the container is not on: a warning, and the address without a network named',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp'), Env: ['SERVICE_NETWORK=nowhere'] }),
    options: { internal: true },
    expected: [service({ port: 80, ip: FRONT_IP })],
    warnings: [
      'network "nowhere" (SERVICE_NETWORK) is not one the container has an address on (back, front); port 80/tcp is registered at the address it has without a network named',
    ],
  },
  {
    name: 'network: -network the container is not on, -internal: the same warning naming -network',
    container: inspect({ ExposedPorts: exposed('80/tcp') }),
    options: { internal: true, network: 'back' },
    expected: [service({ port: 80, ip: '172.17.0.2' })],
    warnings: ['network "back" (-network) is not one the container has an address on (bridge)'],
  },
  {
    name: 'network: not on it, user-defined networks only: published ports as without a network, unpublished ones not registered',
    container: onTwoNetworks({
      ExposedPorts: exposed('80/tcp', '9000/tcp'),
      Ports: { ...published({ '80/tcp': '8080' }), '9000/tcp': null },
      Env: ['SERVICE_NETWORK=nowhere'],
    }),
    expected: [service({ port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
    warnings: [
      'port 80/tcp is registered as without a network named (its published port, at the host address)',
      'port 9000/tcp is not published, so it is not registered',
    ],
  },
  {
    name: 'network: on the default bridge without -internal, SERVICE_NETWORK is ignored with a warning',
    container: inspect({ ...WEB, Env: ['SERVICE_NETWORK=back'] }),
    expected: [service({ port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
    warnings: ["SERVICE_NETWORK is ignored: the container is on one of Docker's own networks"],
  },
  {
    name: 'network: on the default bridge without -internal, -network changes nothing and says nothing',
    container: inspect(WEB),
    options: { network: 'back' },
    expected: [service({ port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },
  {
    name: 'network: --net=host ignores SERVICE_NETWORK with a warning',
    container: inspect({
      NetworkMode: 'host',
      Networks: { host: { IPAddress: '' } },
      ExposedPorts: exposed('9100/tcp'),
      Env: ['SERVICE_NETWORK=back'],
    }),
    expected: [service({ port: 9100, ip: HOST_IP, exposedPort: 9100, hostPort: 9100 })],
    warnings: ['SERVICE_NETWORK is ignored: the container uses the host network'],
  },
  {
    name: 'network: an empty SERVICE_NETWORK is as if unset (-network applies); network is never an attribute',
    container: onTwoNetworks({ ExposedPorts: exposed('80/tcp'), Env: ['SERVICE_NETWORK=', 'SERVICE_REGION=eu'] }),
    options: { internal: true, network: 'back' },
    expected: [service({ port: 80, ip: BACK_IP, attrs: { region: 'eu' } })],
  },

  // Compose names
  {
    name: 'compose: -name-from compose names the service after its Compose service, tagged with the project',
    container: inspect({ ...WEB, Labels: COMPOSE }),
    options: { nameFrom: 'compose' },
    expected: [service({ name: 'api', port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0', tags: ['shop'] })],
  },
  {
    name: 'compose: by default (-name-from image) the labels change nothing',
    container: inspect({ ...WEB, Labels: COMPOSE }),
    expected: [service({ port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },
  {
    name: 'compose: SERVICE_NAME wins, and then there is no project tag',
    container: inspect({ ...WEB, Labels: COMPOSE, Env: ['SERVICE_NAME=web'] }),
    options: { nameFrom: 'compose' },
    expected: [service({ name: 'web', port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },
  {
    name: 'compose: several ports get -<port>; the project tag comes after SERVICE_TAGS and before -tags',
    container: inspect({
      ExposedPorts: exposed('80/tcp', '443/tcp'),
      Ports: published({ '80/tcp': '8080', '443/tcp': '8443' }),
      Labels: { ...COMPOSE, SERVICE_TAGS: 'a', SERVICE_443_NAME: 'tls' },
    }),
    options: { nameFrom: 'compose', tags: 'z' },
    expected: [
      service({ name: 'api-80', port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0', tags: ['a', 'shop', 'z'] }),
      service({ name: 'tls', port: 8443, ip: HOST_IP, exposedPort: 443, hostPort: 8443, hostIp: '0.0.0.0', tags: ['a', 'z'] }),
    ],
  },
  {
    name: 'compose: a container without Compose labels keeps the image name',
    container: inspect(WEB),
    options: { nameFrom: 'compose' },
    expected: [service({ port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },
  {
    name: 'compose: a service label without a project label: the name, no tag',
    container: inspect({ ...WEB, Labels: { 'com.docker.compose.service': 'worker' } }),
    options: { nameFrom: 'compose' },
    expected: [service({ name: 'worker', port: 8080, ip: HOST_IP, hostPort: 8080, hostIp: '0.0.0.0' })],
  },

  // Swarm
  {
    name: "swarm: a port the routing mesh publishes: the node's address and the published port, named after the service",
    container: task(swarmService([{ TargetPort: 80, PublishedPort: 28080 }])),
    expected: [
      service({ id: 'h1:swarm:web:28080', name: 'web', port: 28080, ip: HOST_IP, hostPort: 28080, containerName: TASK, swarm: INGRESS }),
    ],
  },
  {
    name: 'swarm: an ingress udp port and a second tcp one: :udp IDs, udp tag, -<target port> names',
    container: task(
      swarmService([
        { TargetPort: 53, PublishedPort: 5353, Protocol: 'udp' },
        { TargetPort: 80, PublishedPort: 28080 },
      ]),
    ),
    expected: [
      service({
        id: 'h1:swarm:web:5353:udp',
        name: 'web-53',
        port: 5353,
        ip: HOST_IP,
        exposedPort: 53,
        proto: 'udp',
        tags: ['udp'],
        hostPort: 5353,
        containerName: TASK,
        swarm: INGRESS,
      }),
      service({ id: 'h1:swarm:web:28080', name: 'web-80', port: 28080, ip: HOST_IP, hostPort: 28080, containerName: TASK, swarm: INGRESS }),
    ],
  },
  {
    name: "swarm: host-mode publishing: the task's own binding, per task, named after the service",
    container: task(
      swarmService([{ TargetPort: 80, PublishedPort: 28081, PublishMode: 'host' }]),
      {
        ExposedPorts: exposed('80/tcp'),
        Ports: published({ '80/tcp': '28081' }),
        NetworkMode: 'default',
      },
      { bridge: { IPAddress: '172.17.0.3' } },
    ),
    expected: [
      service({
        id: `h1:${TASK}:80`,
        name: 'web',
        port: 28081,
        ip: HOST_IP,
        hostPort: 28081,
        hostIp: '0.0.0.0',
        containerName: TASK,
        swarm: TASK_OF,
      }),
    ],
  },
  {
    name: "swarm: -internal: the task's address on its own network (not ingress) and the target port",
    container: task(
      swarmService([{ TargetPort: 80, PublishedPort: 28080 }]),
      {},
      { ingress: { IPAddress: '10.0.0.9' }, appnet: { IPAddress: '10.0.1.4' } },
    ),
    options: { internal: true },
    expected: [service({ id: `h1:${TASK}:80`, name: 'web', port: 80, ip: '10.0.1.4', containerName: TASK, swarm: TASK_OF })],
  },
  {
    name: "swarm: -internal on ingress only: the ingress address, the task's only one",
    container: task(swarmService([{ TargetPort: 80, PublishedPort: 28080 }])),
    options: { internal: true },
    expected: [service({ id: `h1:${TASK}:80`, name: 'web', port: 80, ip: '10.0.0.9', containerName: TASK, swarm: TASK_OF })],
  },
  {
    name: 'swarm: -internal with -network ingress: the ingress address',
    container: task(
      swarmService([{ TargetPort: 80, PublishedPort: 28080 }]),
      {},
      { ingress: { IPAddress: '10.0.0.9' }, appnet: { IPAddress: '10.0.1.4' } },
    ),
    options: { internal: true, network: 'ingress' },
    expected: [service({ id: `h1:${TASK}:80`, name: 'web', port: 80, ip: '10.0.0.9', containerName: TASK, swarm: TASK_OF })],
  },
  {
    name: "swarm: SERVICE_NETWORK without -internal (user-defined networks only): the task's address there instead of the mesh",
    container: task(
      swarmService([{ TargetPort: 80, PublishedPort: 28080 }]),
      { Env: ['SERVICE_NETWORK=appnet'] },
      { ingress: { IPAddress: '10.0.0.9' }, appnet: { IPAddress: '10.0.1.4' } },
    ),
    expected: [service({ id: `h1:${TASK}:80`, name: 'web', port: 80, ip: '10.0.1.4', containerName: TASK, swarm: TASK_OF })],
  },
  {
    name: 'swarm: SERVICE_NAME and SERVICE_ID apply to the mesh registration as to any',
    container: task(swarmService([{ TargetPort: 80, PublishedPort: 28080 }]), { Env: ['SERVICE_NAME=front', 'SERVICE_ID=front-node1'] }),
    expected: [
      service({ id: 'front-node1', name: 'front', port: 28080, ip: HOST_IP, hostPort: 28080, containerName: TASK, swarm: INGRESS }),
    ],
  },
  {
    name: 'swarm: the service could not be read (not a manager, or gone): a warning, nothing for the mesh',
    container: task(null),
    expected: [],
    warnings: ['its Swarm service web could not be read (gone, or this node is not a Swarm manager)'],
  },
  {
    name: 'swarm: a service without published ports gives nothing (gliderlabs: exposed, unpublished)',
    container: task(swarmService([]), { ExposedPorts: exposed('80/tcp') }),
    expected: [],
  },
];

describe('service model: networks, Compose and Swarm (docs/registrator.md)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = containerServices(parseContainer(c.container), options(c.options));
      assert.deepStrictEqual(result.services, c.expected);
      const expectedWarnings = c.warnings ?? [];
      assert.equal(result.warnings.length, expectedWarnings.length, `warnings: ${JSON.stringify(result.warnings)}`);
      expectedWarnings.forEach((text, i) => {
        assert.match(result.warnings[i], /^container \S+ \([0-9a-f]{12}\): /);
        assert.ok(result.warnings[i].includes(SHORT_ID), result.warnings[i]);
        assert.ok(result.warnings[i].includes(text), `warning ${JSON.stringify(result.warnings[i])} lacks ${JSON.stringify(text)}`);
      });
    });
  }
});
