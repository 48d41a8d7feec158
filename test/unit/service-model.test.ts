import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import type { ContainerHealth, Service, ServiceModelOptions } from '../../src/registrator/service';
import { containerServices } from '../../src/registrator/service-model';
import { ID, inspect } from '../fixtures/inspect';

/** Host name and address every case runs with unless it says otherwise. */
const HOST = 'h1';
const HOST_IP = '10.0.0.5';
const HOST_IPV6 = '2001:db8::5';
const BRIDGE_IP = '172.17.0.2';
const SHORT_ID = ID.slice(0, 12);
const DIGEST = 'sha256:4a9cf7b3a8c5f1e1d2b2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4';
const HEX_ID = '4a9cf7b3a8c5f1e1d2b2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4';

function options(o: Partial<ServiceModelOptions> = {}): ServiceModelOptions {
  return { host: HOST, hostIp: HOST_IP, internal: false, explicit: false, tags: '', useIpFromLabel: '', ...o };
}

/** `Ports` with one binding per port: `published({'80/tcp': '8080'})`, optionally on one address. */
function published(ports: Record<string, string>, hostIp = '0.0.0.0'): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  return Object.fromEntries(Object.entries(ports).map(([key, hostPort]) => [key, [{ HostIp: hostIp, HostPort: hostPort }]]));
}

function exposed(...keys: string[]): Record<string, object> {
  return Object.fromEntries(keys.map((k) => [k, {}]));
}

type Expected = {
  id: string;
  name: string;
  port: number;
  ip: string;
  tags?: string[];
  attrs?: Record<string, string>;
  ttl?: number;
  exposedPort: number;
  hostPort: number | null;
  proto?: 'tcp' | 'udp';
  hostIp?: string;
  hostname?: string;
  containerName?: string;
  ipv6?: string;
  health?: ContainerHealth;
};

/** A service as the case expects it; origin fields not named default to container fx, tcp, 0.0.0.0. */
function service(e: Expected): Service {
  const s: Service = {
    id: e.id,
    name: e.name,
    port: e.port,
    ip: e.ip,
    tags: e.tags ?? [],
    attrs: e.attrs ?? {},
    origin: {
      containerId: ID,
      containerName: e.containerName ?? 'fx',
      hostPort: e.hostPort,
      exposedPort: e.exposedPort,
      proto: e.proto ?? 'tcp',
      hostIp: e.hostIp ?? '0.0.0.0',
      hostname: e.hostname ?? '',
    },
  };
  if (e.ipv6 !== undefined) s.origin.ipv6 = e.ipv6;
  if (e.health !== undefined) s.origin.health = e.health;
  if (e.ttl !== undefined) s.ttl = e.ttl;
  return s;
}

/** ID of the container another one shares the network of (`--net=container:`) in the cases below. */
const POD_ID = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

/** Container fx sharing the network of `other` (its inspect; null: gone), referred to by ID unless `ref` is given. */
function joined(other: ContainerInfo | null, o: Parameters<typeof inspect>[0] = {}, ref = POD_ID): ContainerInfo {
  // Docker reports no networks for a container that shares another's.
  return { ...inspect({ NetworkMode: `container:${ref}`, Networks: {}, ...o }), networkContainer: other };
}

type Case = {
  name: string;
  container: ContainerInfo;
  options?: Partial<ServiceModelOptions>;
  expected: Service[];
  /** Each warning must contain the matching text, in order; no other warnings. */
  warnings?: string[];
};

/** The one service of a container fx with image test/busybox:1 publishing 80/tcp on 0.0.0.0:8080. */
function web(e: Partial<Expected> = {}): Service {
  return service({ id: 'h1:fx:80', name: 'busybox', port: 8080, ip: HOST_IP, exposedPort: 80, hostPort: 8080, ...e });
}
const WEB = { ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }) };
const TWO_PORTS = { ExposedPorts: exposed('80/tcp', '443/tcp'), Ports: published({ '80/tcp': '8080', '443/tcp': '8443' }) };
function tls(e: Partial<Expected> = {}): Service {
  return service({ id: 'h1:fx:443', name: 'busybox-443', port: 8443, ip: HOST_IP, exposedPort: 443, hostPort: 8443, ...e });
}

const cases: Case[] = [
  // Which ports become services
  {
    name: 'one published tcp port: image basename, host ID, host address for 0.0.0.0',
    container: inspect(WEB),
    expected: [web()],
  },
  {
    name: 'no ports at all: no services, no warnings',
    container: inspect(),
    expected: [],
  },
  {
    name: 'exposed but unpublished port is not registered without -internal',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: { '80/tcp': null } }),
    expected: [],
  },
  {
    name: 'published and unpublished ports: only the published one, and it is not a group',
    container: inspect({ ExposedPorts: exposed('80/tcp', '9000/tcp'), Ports: { ...published({ '80/tcp': '8080' }), '9000/tcp': null } }),
    expected: [web()],
  },
  {
    name: 'IPv4 and IPv6 bindings of one port: the first binding only, one service',
    container: inspect({
      ExposedPorts: exposed('80/tcp'),
      Ports: {
        '80/tcp': [
          { HostIp: '0.0.0.0', HostPort: '8080' },
          { HostIp: '::', HostPort: '8080' },
        ],
      },
    }),
    expected: [web()],
  },
  {
    name: 'two different bindings of one port: the first one wins',
    container: inspect({
      ExposedPorts: exposed('80/tcp'),
      Ports: {
        '80/tcp': [
          { HostIp: '127.0.0.1', HostPort: '8081' },
          { HostIp: '0.0.0.0', HostPort: '9090' },
        ],
      },
    }),
    expected: [web({ ip: '127.0.0.1', port: 8081, hostPort: 8081, hostIp: '127.0.0.1' })],
  },

  // Names from the image
  {
    name: 'name: plain image without tag',
    container: inspect({ ...WEB, Image: 'redis' }),
    expected: [web({ name: 'redis' })],
  },
  {
    name: 'name: tag dropped',
    container: inspect({ ...WEB, Image: 'redis:7-alpine' }),
    expected: [web({ name: 'redis' })],
  },
  {
    name: 'name: digest dropped',
    container: inspect({ ...WEB, Image: `redis@${DIGEST}` }),
    expected: [web({ name: 'redis' })],
  },
  {
    name: 'name: registry with port, nested path and tag',
    container: inspect({ ...WEB, Image: 'registry.example.com:5000/team/app:1.2' }),
    expected: [web({ name: 'app' })],
  },
  {
    name: 'name: registry with port, deep path, no tag',
    container: inspect({ ...WEB, Image: 'localhost:5000/a/b/c/worker' }),
    expected: [web({ name: 'worker' })],
  },
  {
    name: 'name: tag and digest both dropped',
    container: inspect({ ...WEB, Image: `ghcr.io/org/api:2.0@${DIGEST}` }),
    expected: [web({ name: 'api' })],
  },
  {
    name: 'name: image given as sha256 ID gives the container name',
    container: inspect({ ...WEB, Image: DIGEST, Name: '/billing' }),
    expected: [web({ name: 'billing', id: 'h1:billing:80', containerName: 'billing' })],
  },
  {
    name: 'name: image given as bare 64-hex ID gives the container name',
    container: inspect({ ...WEB, Image: HEX_ID }),
    expected: [web({ name: 'fx' })],
  },

  // Metadata precedence
  {
    name: 'SERVICE_NAME from env',
    container: inspect({ ...WEB, Env: ['PATH=/bin', 'SERVICE_NAME=web'] }),
    expected: [web({ name: 'web' })],
  },
  {
    name: 'SERVICE_NAME from a label beats the env var',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=from-env'], Labels: { SERVICE_NAME: 'from-label' } }),
    expected: [web({ name: 'from-label' })],
  },
  {
    name: 'port-specific env SERVICE_80_NAME beats a generic label SERVICE_NAME',
    container: inspect({ ...WEB, Env: ['SERVICE_80_NAME=http'], Labels: { SERVICE_NAME: 'generic' } }),
    expected: [web({ name: 'http' })],
  },
  {
    name: 'port-specific label beats port-specific env',
    container: inspect({ ...WEB, Env: ['SERVICE_80_NAME=env-http'], Labels: { SERVICE_80_NAME: 'label-http' } }),
    expected: [web({ name: 'label-http' })],
  },
  {
    name: 'attrs: label beats env for the same key',
    container: inspect({ ...WEB, Env: ['SERVICE_MODE=tcp'], Labels: { SERVICE_MODE: 'http' } }),
    expected: [web({ attrs: { mode: 'http' } })],
  },
  {
    name: 'attrs: port-specific value beats the generic one, only on its port',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_REGION: 'eu', SERVICE_443_REGION: 'us' } }),
    expected: [web({ name: 'busybox-80', attrs: { region: 'eu' } }), tls({ attrs: { region: 'us' } })],
  },
  {
    name: 'attrs: remaining keys lowercased; name, id, tags, ignore left out; TTL-like keys kept',
    container: inspect({
      ...WEB,
      Env: ['SERVICE_CHECK_HTTP=/health', 'SERVICE_TTL=30', 'SERVICE_IGNORE=false'],
      Labels: {
        SERVICE_NAME: 'web',
        SERVICE_ID: 'web-1',
        SERVICE_TAGS: 'a',
        SERVICE_Check_Interval: '5s',
        SERVICE_80_DOMAINS: 'a.com,b.com',
        SERVICE_EMPTY: '',
      },
    }),
    expected: [
      web({
        name: 'web',
        id: 'web-1',
        tags: ['a'],
        attrs: { check_http: '/health', ttl: '30', check_interval: '5s', domains: 'a.com,b.com', empty: '' },
      }),
    ],
  },
  {
    name: 'keys without the exact SERVICE_ prefix are not metadata',
    container: inspect({
      ...WEB,
      Env: ['MY_SERVICE_NAME=no', 'SERVICENAME=no'],
      Labels: { service_name: 'no', 'com.example.SERVICE_NAME': 'no' },
    }),
    expected: [web()],
  },

  // Groups
  {
    name: 'group: two ports with the image name get -<port>',
    container: inspect(TWO_PORTS),
    expected: [web({ name: 'busybox-80' }), tls()],
  },
  {
    name: 'group: generic SERVICE_NAME gets -<port>',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_NAME: 'web' } }),
    expected: [web({ name: 'web-80' }), tls({ name: 'web-443' })],
  },
  {
    name: 'group: port-specific names are used as given',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_80_NAME: 'http', SERVICE_443_NAME: 'https' } }),
    expected: [web({ name: 'http' }), tls({ name: 'https' })],
  },
  {
    name: 'group: one port-specific name, the other port falls back to the generic name with suffix',
    container: inspect({ ...TWO_PORTS, Env: ['SERVICE_NAME=web', 'SERVICE_80_NAME=http'] }),
    expected: [web({ name: 'http' }), tls({ name: 'web-443' })],
  },
  {
    name: 'group: ports are ordered by number, whatever order Docker lists them in',
    container: inspect({
      ExposedPorts: exposed('9000/tcp', '22/tcp'),
      Ports: published({ '9000/tcp': '19000', '22/tcp': '2222' }),
    }),
    expected: [
      service({ id: 'h1:fx:22', name: 'busybox-22', port: 2222, ip: HOST_IP, exposedPort: 22, hostPort: 2222 }),
      service({ id: 'h1:fx:9000', name: 'busybox-9000', port: 19000, ip: HOST_IP, exposedPort: 9000, hostPort: 19000 }),
    ],
  },

  // udp
  {
    name: 'udp: ID ends in :udp and the service is tagged udp',
    container: inspect({ ExposedPorts: exposed('53/udp'), Ports: published({ '53/udp': '5353' }) }),
    expected: [
      service({
        id: 'h1:fx:53:udp',
        name: 'busybox',
        port: 5353,
        ip: HOST_IP,
        exposedPort: 53,
        hostPort: 5353,
        proto: 'udp',
        tags: ['udp'],
      }),
    ],
  },
  {
    name: 'udp: tcp and udp on the same port, tcp first, same suffixed name, IDs apart',
    container: inspect({
      Image: 'coredns/coredns:1.11',
      ExposedPorts: exposed('53/udp', '53/tcp'),
      Ports: published({ '53/udp': '53', '53/tcp': '53' }),
    }),
    expected: [
      service({ id: 'h1:fx:53', name: 'coredns-53', port: 53, ip: HOST_IP, exposedPort: 53, hostPort: 53 }),
      service({
        id: 'h1:fx:53:udp',
        name: 'coredns-53',
        port: 53,
        ip: HOST_IP,
        exposedPort: 53,
        hostPort: 53,
        proto: 'udp',
        tags: ['udp'],
      }),
    ],
  },
  {
    name: 'udp: SERVICE_TAGS and -tags come first, udp last, not repeated',
    container: inspect({ ExposedPorts: exposed('53/udp'), Ports: published({ '53/udp': '5353' }), Labels: { SERVICE_TAGS: 'dns,udp' } }),
    options: { tags: 'prod' },
    expected: [
      service({
        id: 'h1:fx:53:udp',
        name: 'busybox',
        port: 5353,
        ip: HOST_IP,
        exposedPort: 53,
        hostPort: 5353,
        proto: 'udp',
        tags: ['dns', 'udp', 'prod'],
      }),
    ],
  },

  // IDs
  {
    name: 'ID: SERVICE_ID replaces the default on a single service',
    container: inspect({ ...WEB, Labels: { SERVICE_ID: 'web-primary' } }),
    expected: [web({ id: 'web-primary' })],
  },
  {
    name: 'ID: generic SERVICE_ID on several services keeps :<port>[:udp]',
    container: inspect({
      ExposedPorts: exposed('80/tcp', '53/udp'),
      Ports: published({ '80/tcp': '8080', '53/udp': '5353' }),
      Env: ['SERVICE_ID=edge'],
    }),
    expected: [
      service({
        id: 'edge:53:udp',
        name: 'busybox-53',
        port: 5353,
        ip: HOST_IP,
        exposedPort: 53,
        hostPort: 5353,
        proto: 'udp',
        tags: ['udp'],
      }),
      service({ id: 'edge:80', name: 'busybox-80', port: 8080, ip: HOST_IP, exposedPort: 80, hostPort: 8080 }),
    ],
  },
  {
    name: 'ID: port-specific SERVICE_<port>_ID used as given; other port keeps generic ID with suffix',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_ID: 'gen', SERVICE_443_ID: 'tls-one' } }),
    expected: [web({ name: 'busybox-80', id: 'gen:80' }), tls({ id: 'tls-one' })],
  },
  {
    name: 'ID: one port-specific ID over tcp and udp of that port: the udp one gets :udp',
    container: inspect({
      ExposedPorts: exposed('53/tcp', '53/udp'),
      Ports: published({ '53/tcp': '53', '53/udp': '53' }),
      Labels: { SERVICE_53_ID: 'dns' },
    }),
    expected: [
      service({ id: 'dns', name: 'busybox-53', port: 53, ip: HOST_IP, exposedPort: 53, hostPort: 53 }),
      service({ id: 'dns:udp', name: 'busybox-53', port: 53, ip: HOST_IP, exposedPort: 53, hostPort: 53, proto: 'udp', tags: ['udp'] }),
    ],
  },
  {
    name: 'ID: the same port-specific ID on two tcp ports: the second is skipped with a warning',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_80_ID: 'same', SERVICE_443_ID: 'same' } }),
    expected: [web({ name: 'busybox-80', id: 'same' })],
    warnings: ['service ID "same" is already used by another port of this container; port 443/tcp skipped'],
  },

  // Host networking
  {
    name: '--net=host: one service per exposed port, host IP, exposed port',
    container: inspect({ NetworkMode: 'host', Networks: { host: { IPAddress: '' } }, ExposedPorts: exposed('8080/tcp', '53/udp') }),
    expected: [
      service({
        id: 'h1:fx:53:udp',
        name: 'busybox-53',
        port: 53,
        ip: HOST_IP,
        exposedPort: 53,
        hostPort: 53,
        proto: 'udp',
        hostIp: '',
        tags: ['udp'],
      }),
      service({ id: 'h1:fx:8080', name: 'busybox-8080', port: 8080, ip: HOST_IP, exposedPort: 8080, hostPort: 8080, hostIp: '' }),
    ],
  },
  {
    name: '--net=host with -internal: still the host IP and the exposed port',
    container: inspect({ NetworkMode: 'host', Networks: { host: { IPAddress: '' } }, ExposedPorts: exposed('8080/tcp') }),
    options: { internal: true },
    expected: [service({ id: 'h1:fx:8080', name: 'busybox', port: 8080, ip: HOST_IP, exposedPort: 8080, hostPort: 8080, hostIp: '' })],
  },
  {
    name: '--net=host without exposed ports: nothing',
    container: inspect({ NetworkMode: 'host', Networks: { host: { IPAddress: '' } } }),
    expected: [],
  },
  {
    name: '--net=host with -ip given: the caller passes it as hostIp',
    container: inspect({ NetworkMode: 'host', Networks: { host: { IPAddress: '' } }, ExposedPorts: exposed('9100/tcp') }),
    options: { hostIp: '192.0.2.7' },
    expected: [service({ id: 'h1:fx:9100', name: 'busybox', port: 9100, ip: '192.0.2.7', exposedPort: 9100, hostPort: 9100, hostIp: '' })],
  },

  // -internal
  {
    name: '-internal: every exposed port at the container IP and exposed port, published or not',
    container: inspect({ ExposedPorts: exposed('80/tcp', '443/tcp'), Ports: { '80/tcp': null, ...published({ '443/tcp': '8443' }) } }),
    options: { internal: true },
    expected: [
      service({ id: 'h1:fx:80', name: 'busybox-80', port: 80, ip: BRIDGE_IP, exposedPort: 80, hostPort: null, hostIp: '' }),
      service({ id: 'h1:fx:443', name: 'busybox-443', port: 443, ip: BRIDGE_IP, exposedPort: 443, hostPort: 8443 }),
    ],
  },
  {
    name: '-internal on a user-defined network: the IP on that network',
    container: inspect({
      NetworkMode: 'appnet',
      Networks: { appnet: { IPAddress: '172.20.0.5' }, zzz: { IPAddress: '172.30.0.9' } },
      ExposedPorts: exposed('5432/tcp'),
    }),
    options: { internal: true },
    expected: [service({ id: 'h1:fx:5432', name: 'busybox', port: 5432, ip: '172.20.0.5', exposedPort: 5432, hostPort: null, hostIp: '' })],
  },
  {
    name: '-internal with --net=none: no address, a warning, no service',
    container: inspect({ NetworkMode: 'none', Networks: { none: { IPAddress: '' } }, ExposedPorts: exposed('80/tcp') }),
    options: { internal: true },
    expected: [],
    warnings: ['port 80/tcp has no address to register (the container has no IP)'],
  },

  // IPv6
  {
    name: 'IPv6: a dual-stack container publishing on 0.0.0.0 and :: registers IPv4 and records its IPv6 address',
    container: inspect({
      GlobalIPv6Address: 'fd00:dead::242:ac11:2',
      ExposedPorts: exposed('80/tcp'),
      Ports: {
        '80/tcp': [
          { HostIp: '0.0.0.0', HostPort: '8080' },
          { HostIp: '::', HostPort: '8080' },
        ],
      },
    }),
    expected: [web({ ipv6: 'fd00:dead::242:ac11:2' })],
  },
  {
    name: 'IPv6: the IPv4 binding is preferred even when Docker lists the IPv6 one first',
    container: inspect({
      ExposedPorts: exposed('80/tcp'),
      Ports: {
        '80/tcp': [
          { HostIp: 'fd00::5', HostPort: '9090' },
          { HostIp: '0.0.0.0', HostPort: '8080' },
        ],
      },
    }),
    expected: [web()],
  },
  {
    name: 'IPv6: a port published on one IPv6 address only registers that address',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, 'fd00::5') }),
    expected: [web({ ip: 'fd00::5', hostIp: 'fd00::5' })],
  },
  // A port published on :: only: the host's IPv6 address (hostIpv6), which serves it; 0.0.0.0 and none keep hostIp
  {
    name: "IPv6: a port published on :: only gets the host's IPv6 address",
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, '::') }),
    options: { hostIpv6: HOST_IPV6 },
    expected: [web({ ip: HOST_IPV6, hostIp: '::' })],
  },
  {
    name: 'IPv6: published on :: only, the host has no IPv6 address: the IPv4 one, with a warning',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, '::') }),
    options: { hostIpv6: '' },
    expected: [web({ hostIp: '::' })],
    warnings: [`port 80/tcp is published on :: only and the host has no IPv6 address; registered at ${HOST_IP}, which may not serve it`],
  },
  {
    name: 'IPv6: published on :: only, no IPv6 address given at all: the same warning',
    container: inspect({
      ExposedPorts: exposed('80/tcp', '443/tcp'),
      Ports: { ...published({ '80/tcp': '8080' }, '::'), ...published({ '443/tcp': '8443' }) },
    }),
    expected: [web({ name: 'busybox-80', hostIp: '::' }), tls()],
    warnings: ['port 80/tcp is published on :: only and the host has no IPv6 address'],
  },
  {
    name: 'IPv6: published on :: only with -useIpFromLabel: the label, no warning',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, '::'), Labels: { ip: '198.51.100.4' } }),
    options: { useIpFromLabel: 'ip' },
    expected: [web({ ip: '198.51.100.4', hostIp: '::' })],
  },
  {
    name: 'IPv6: -ip given as IPv6 (the caller passes it as both addresses) serves 0.0.0.0 and ::',
    container: inspect({
      ExposedPorts: exposed('80/tcp', '443/tcp'),
      Ports: { ...published({ '80/tcp': '8080' }, '::'), ...published({ '443/tcp': '8443' }) },
    }),
    options: { hostIp: 'fd00:5::9', hostIpv6: 'fd00:5::9' },
    expected: [web({ name: 'busybox-80', ip: 'fd00:5::9', hostIp: '::' }), tls({ ip: 'fd00:5::9' })],
  },
  ...(
    [
      ['0.0.0.0', [{ HostIp: '0.0.0.0', HostPort: '8080' }]],
      ['no HostIp (Podman)', [{ HostIp: '', HostPort: '8080' }]],
      [
        '0.0.0.0 and :: (Docker with --ipv6)',
        [
          { HostIp: '::', HostPort: '8080' },
          { HostIp: '0.0.0.0', HostPort: '8080' },
        ],
      ],
    ] as const
  ).map(([what, bindings]) => ({
    name: `IPv6: published on ${what}: the IPv4 host address, whatever hostIpv6`,
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: { '80/tcp': [...bindings] } }),
    options: { hostIpv6: HOST_IPV6 },
    // Podman's "" is every address, as Docker's 0.0.0.0 (docs/podman.md): read as 0.0.0.0.
    expected: [web({ hostIp: bindings[bindings.length - 1].HostIp || '0.0.0.0' })],
  })),
  {
    name: 'IPv6: --net=host keeps the IPv4 host address',
    container: inspect({ NetworkMode: 'host', Networks: { host: { IPAddress: '' } }, ExposedPorts: exposed('9100/tcp') }),
    options: { hostIpv6: HOST_IPV6 },
    expected: [service({ id: 'h1:fx:9100', name: 'busybox', port: 9100, ip: HOST_IP, exposedPort: 9100, hostPort: 9100, hostIp: '' })],
  },
  {
    name: 'IPv6: -internal on a dual-stack container prefers its IPv4 address',
    container: inspect({ GlobalIPv6Address: 'fd00:dead::2', ExposedPorts: exposed('80/tcp') }),
    options: { internal: true },
    expected: [
      service({
        id: 'h1:fx:80',
        name: 'busybox',
        port: 80,
        ip: BRIDGE_IP,
        exposedPort: 80,
        hostPort: null,
        hostIp: '',
        ipv6: 'fd00:dead::2',
      }),
    ],
  },
  {
    name: 'IPv6: -internal on an IPv6-only network registers the global IPv6 address',
    container: inspect({
      NetworkMode: 'v6net',
      Networks: { v6net: { IPAddress: '', GlobalIPv6Address: 'fd00:beef::2' } },
      ExposedPorts: exposed('8080/tcp', '53/udp'),
    }),
    options: { internal: true },
    expected: [
      service({
        id: 'h1:fx:53:udp',
        name: 'busybox-53',
        port: 53,
        ip: 'fd00:beef::2',
        exposedPort: 53,
        hostPort: null,
        hostIp: '',
        proto: 'udp',
        tags: ['udp'],
        ipv6: 'fd00:beef::2',
      }),
      service({
        id: 'h1:fx:8080',
        name: 'busybox-8080',
        port: 8080,
        ip: 'fd00:beef::2',
        exposedPort: 8080,
        hostPort: null,
        hostIp: '',
        ipv6: 'fd00:beef::2',
      }),
    ],
  },

  // Addresses
  {
    name: 'IP: -ip given replaces 0.0.0.0 (the caller passes -ip as hostIp)',
    container: inspect(WEB),
    options: { hostIp: '203.0.113.9' },
    expected: [web({ ip: '203.0.113.9' })],
  },
  {
    name: "IP: binding on :: with -ip given as IPv4: the host's IPv6 address, not -ip",
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, '::') }),
    options: { hostIp: '203.0.113.9', hostIpv6: HOST_IPV6 },
    expected: [web({ ip: HOST_IPV6, hostIp: '::' })],
  },
  {
    name: 'IP: binding with empty HostIp (Podman) is every address: the host address, hostIp 0.0.0.0',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, '') }),
    expected: [web({ hostIp: '0.0.0.0' })],
  },
  {
    name: 'IP: a specific IPv4 binding is kept, even with -ip',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, '192.168.1.10') }),
    options: { hostIp: '203.0.113.9' },
    expected: [web({ ip: '192.168.1.10', hostIp: '192.168.1.10' })],
  },
  {
    name: 'IP: a specific IPv6 binding is kept',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }, 'fd00::5') }),
    expected: [web({ ip: 'fd00::5', hostIp: 'fd00::5' })],
  },
  {
    name: 'IP: user-defined network, published port keeps the host IP, not the container IP',
    container: inspect({ ...WEB, NetworkMode: 'appnet', Networks: { appnet: { IPAddress: '172.20.0.5' } } }),
    expected: [web()],
  },
  {
    name: 'IP: -useIpFromLabel takes the label value without its /prefix',
    container: inspect({ ...WEB, Labels: { 'com.example.ip': '198.51.100.4/24' } }),
    options: { useIpFromLabel: 'com.example.ip' },
    expected: [web({ ip: '198.51.100.4' })],
  },
  {
    name: 'IP: -useIpFromLabel without that label keeps the usual address, quietly',
    container: inspect(WEB),
    options: { useIpFromLabel: 'com.example.ip' },
    expected: [web()],
  },
  {
    name: 'IP: -useIpFromLabel overrides the container IP under -internal',
    container: inspect({ ExposedPorts: exposed('80/tcp'), Labels: { 'com.example.ip': '198.51.100.4' } }),
    options: { internal: true, useIpFromLabel: 'com.example.ip' },
    expected: [service({ id: 'h1:fx:80', name: 'busybox', port: 80, ip: '198.51.100.4', exposedPort: 80, hostPort: null, hostIp: '' })],
  },
  {
    name: 'IP: -useIpFromLabel reads labels only, not env',
    container: inspect({ ...WEB, Env: ['com.example.ip=198.51.100.4'] }),
    options: { useIpFromLabel: 'com.example.ip' },
    expected: [web()],
  },
  {
    name: 'IP: no host address known and a wildcard binding: warning, no service',
    container: inspect(WEB),
    options: { hostIp: '' },
    expected: [],
    warnings: ['port 80/tcp has no address to register (no host address configured)'],
  },

  // Tags
  {
    name: 'tags: SERVICE_TAGS then -tags, order kept, trimmed, empties dropped',
    container: inspect({ ...WEB, Labels: { SERVICE_TAGS: ' b , a,,c ,' } }),
    options: { tags: 'z, y' },
    expected: [web({ tags: ['b', 'a', 'c', 'z', 'y'] })],
  },
  {
    name: 'tags: an escaped comma stays inside the tag',
    container: inspect({ ...WEB, Env: ['SERVICE_TAGS=traefik.rule=Host(`a`)\\,Host(`b`),web'] }),
    expected: [web({ tags: ['traefik.rule=Host(`a`),Host(`b`)', 'web'] })],
  },
  {
    name: 'tags: -tags alone, with escaping and blanks',
    container: inspect(WEB),
    options: { tags: '  env=prod\\,eu , ,blue' },
    expected: [web({ tags: ['env=prod,eu', 'blue'] })],
  },
  {
    name: 'tags: a tag in both SERVICE_TAGS and -tags appears once, at its first place',
    container: inspect({ ...WEB, Labels: { SERVICE_TAGS: 'b,a' } }),
    options: { tags: 'a,c,b' },
    expected: [web({ tags: ['b', 'a', 'c'] })],
  },
  {
    name: 'tags: port-specific SERVICE_<port>_TAGS replaces the generic list on that port',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_TAGS: 'plain', SERVICE_443_TAGS: 'secure' } }),
    expected: [web({ name: 'busybox-80', tags: ['plain'] }), tls({ tags: ['secure'] })],
  },

  // Ignore rules
  {
    name: 'ignore: SERVICE_IGNORE=1 skips the container without a warning',
    container: inspect({ ...TWO_PORTS, Env: ['SERVICE_IGNORE=1'] }),
    expected: [],
  },
  {
    name: 'ignore: SERVICE_IGNORE=true as a label skips the container',
    container: inspect({ ...WEB, Labels: { SERVICE_IGNORE: 'true' } }),
    expected: [],
  },
  {
    name: 'ignore: false, 0, no (any case) and empty do not ignore',
    container: inspect({ ...TWO_PORTS, Env: ['SERVICE_IGNORE=No', 'SERVICE_80_IGNORE=0', 'SERVICE_443_IGNORE='] }),
    expected: [web({ name: 'busybox-80' }), tls()],
  },
  {
    name: 'ignore: SERVICE_IGNORE=FALSE does not ignore',
    container: inspect({ ...WEB, Labels: { SERVICE_IGNORE: 'FALSE' } }),
    expected: [web()],
  },
  {
    name: 'ignore: SERVICE_<port>_IGNORE skips that port; the survivor is not a group',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_NAME: 'web', SERVICE_443_IGNORE: 'yes' } }),
    expected: [web({ name: 'web' })],
  },
  {
    name: 'ignore: SERVICE_<port>_IGNORE=false keeps one port of an ignored container',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_IGNORE: 'true', SERVICE_80_IGNORE: 'false' } }),
    expected: [web()],
  },
  {
    name: 'ignore: -internal ports are ignored the same way',
    container: inspect({ ExposedPorts: exposed('80/tcp', '9000/tcp'), Labels: { SERVICE_9000_IGNORE: 'on' } }),
    options: { internal: true },
    expected: [service({ id: 'h1:fx:80', name: 'busybox', port: 80, ip: BRIDGE_IP, exposedPort: 80, hostPort: null, hostIp: '' })],
  },

  // -explicit
  {
    name: '-explicit: no name, no service',
    container: inspect(TWO_PORTS),
    options: { explicit: true },
    expected: [],
  },
  {
    name: '-explicit: only the port with SERVICE_<port>_NAME',
    container: inspect({ ...TWO_PORTS, Env: ['SERVICE_443_NAME=https'] }),
    options: { explicit: true },
    expected: [tls({ name: 'https' })],
  },
  {
    name: '-explicit: a generic SERVICE_NAME names every port, suffixed',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_NAME: 'web' } }),
    options: { explicit: true },
    expected: [web({ name: 'web-80' }), tls({ name: 'web-443' })],
  },
  {
    name: '-explicit: a blank SERVICE_NAME is no name',
    container: inspect({ ...WEB, Labels: { SERVICE_NAME: '   ' } }),
    options: { explicit: true },
    expected: [],
  },

  // Other networking and origin details
  // --net=container:<ref>: the caller puts <ref>'s inspect in networkContainer (null: gone)
  {
    name: "--net=container:<id>: exposed ports at the network container's default-bridge IP",
    container: joined(inspect({ Id: POD_ID, Name: '/pod', IPAddress: '172.17.0.9' }), { ExposedPorts: exposed('8080/tcp') }),
    expected: [service({ id: 'h1:fx:8080', name: 'busybox', port: 8080, ip: '172.17.0.9', exposedPort: 8080, hostPort: null, hostIp: '' })],
  },
  {
    name: '--net=container:<name>: the same, whatever the reference',
    container: joined(inspect({ Id: POD_ID, Name: '/pod', IPAddress: '172.17.0.9' }), { ExposedPorts: exposed('8080/tcp') }, 'pod'),
    expected: [service({ id: 'h1:fx:8080', name: 'busybox', port: 8080, ip: '172.17.0.9', exposedPort: 8080, hostPort: null, hostIp: '' })],
  },
  {
    name: '--net=container: a network container on a user-defined network: its IP there',
    container: joined(inspect({ Id: POD_ID, Networks: { backend: { IPAddress: '172.20.0.7' } } }), { ExposedPorts: exposed('8080/tcp') }),
    expected: [service({ id: 'h1:fx:8080', name: 'busybox', port: 8080, ip: '172.20.0.7', exposedPort: 8080, hostPort: null, hostIp: '' })],
  },
  {
    name: "--net=container: several exposed ports, SERVICE_* from env, the network container's own ports play no part",
    container: joined(
      inspect({ Id: POD_ID, IPAddress: '172.17.0.9', ExposedPorts: exposed('80/tcp'), Ports: published({ '80/tcp': '8080' }) }),
      { ExposedPorts: exposed('9000/tcp', '53/udp'), Env: ['SERVICE_NAME=app', 'SERVICE_TAGS=x'] },
    ),
    expected: [
      service({
        id: 'h1:fx:53:udp',
        name: 'app-53',
        port: 53,
        ip: '172.17.0.9',
        exposedPort: 53,
        hostPort: null,
        hostIp: '',
        proto: 'udp',
        tags: ['x', 'udp'],
      }),
      service({
        id: 'h1:fx:9000',
        name: 'app-9000',
        port: 9000,
        ip: '172.17.0.9',
        exposedPort: 9000,
        hostPort: null,
        hostIp: '',
        tags: ['x'],
      }),
    ],
  },
  {
    name: '--net=container: a dual-stack network container gives its IPv4 address and its IPv6 one as origin.ipv6',
    container: joined(inspect({ Id: POD_ID, IPAddress: '172.17.0.9', GlobalIPv6Address: 'fd00:dead::9' }), {
      ExposedPorts: exposed('8080/tcp'),
    }),
    expected: [
      service({
        id: 'h1:fx:8080',
        name: 'busybox',
        port: 8080,
        ip: '172.17.0.9',
        exposedPort: 8080,
        hostPort: null,
        hostIp: '',
        ipv6: 'fd00:dead::9',
      }),
    ],
  },
  {
    name: '--net=container: a network container on an IPv6-only network: its global IPv6 address',
    container: joined(inspect({ Id: POD_ID, Networks: { v6: { IPAddress: '', GlobalIPv6Address: 'fd00:beef::9' } } }), {
      ExposedPorts: exposed('8080/tcp'),
    }),
    expected: [
      service({
        id: 'h1:fx:8080',
        name: 'busybox',
        port: 8080,
        ip: 'fd00:beef::9',
        exposedPort: 8080,
        hostPort: null,
        hostIp: '',
        ipv6: 'fd00:beef::9',
      }),
    ],
  },
  {
    name: '--net=container: -internal changes nothing, -useIpFromLabel still wins',
    container: joined(inspect({ Id: POD_ID, IPAddress: '172.17.0.9' }), {
      ExposedPorts: exposed('8080/tcp'),
      Labels: { ip: '198.51.100.4/24' },
    }),
    options: { internal: true, useIpFromLabel: 'ip' },
    expected: [
      service({ id: 'h1:fx:8080', name: 'busybox', port: 8080, ip: '198.51.100.4', exposedPort: 8080, hostPort: null, hostIp: '' }),
    ],
  },
  {
    name: '--net=container: a network container on the host network: host IP and exposed port, as --net=host',
    container: joined(inspect({ Id: POD_ID, NetworkMode: 'host', Networks: { host: { IPAddress: '' } } }), {
      ExposedPorts: exposed('8080/tcp'),
    }),
    expected: [service({ id: 'h1:fx:8080', name: 'busybox', port: 8080, ip: HOST_IP, exposedPort: 8080, hostPort: 8080, hostIp: '' })],
  },
  {
    name: '--net=container: the network container is gone: warning, no service',
    container: joined(null, { ExposedPorts: exposed('8080/tcp') }),
    expected: [],
    warnings: [`shares the network of container ${POD_ID.slice(0, 12)}, which is gone; port 8080/tcp skipped`],
  },
  {
    name: '--net=container: a network container without an address (--net=none): warning, no service',
    container: joined(
      inspect({ Id: POD_ID, NetworkMode: 'none', Networks: { none: { IPAddress: '' } } }),
      { ExposedPorts: exposed('8080/tcp') },
      'pod',
    ),
    expected: [],
    warnings: ['shares the network of container pod, which has no IP address; port 8080/tcp skipped'],
  },
  {
    name: '--net=container: not looked up by the caller: warning, no service',
    container: inspect({ NetworkMode: 'container:abc123', Networks: {}, ExposedPorts: exposed('8080/tcp') }),
    expected: [],
    warnings: ['shares the network of container abc123, whose address is unknown; port 8080/tcp skipped'],
  },
  {
    name: 'origin carries Config.Hostname; -ttl is copied to the service',
    container: inspect({ ...WEB, Hostname: 'fx-host' }),
    options: { ttl: 30 },
    expected: [web({ hostname: 'fx-host', ttl: 30 })],
  },

  // Odd input
  {
    name: 'odd: SERVICE_=x is reported and ignored; the service still registers',
    container: inspect({ ...WEB, Env: ['SERVICE_=x'] }),
    expected: [web()],
    warnings: ['env "SERVICE_" has no key after SERVICE_'],
  },
  {
    name: 'odd: SERVICE_80_=x and SERVICE_80=x are reported and ignored',
    container: inspect({ ...WEB, Labels: { SERVICE_80_: 'x', SERVICE_80: 'y' } }),
    expected: [web()],
    warnings: ['label "SERVICE_80" has no key after the port number', 'label "SERVICE_80_" has no key after the port number'],
  },
  {
    name: 'odd: SERVICE_99999_NAME names a port outside 1-65535',
    container: inspect({ ...WEB, Labels: { SERVICE_99999_NAME: 'nope' } }),
    expected: [web()],
    warnings: ['"SERVICE_99999_NAME" names port 99999, outside 1-65535'],
  },
  {
    name: 'odd: SERVICE_0_NAME names port 0',
    container: inspect({ ...WEB, Env: ['SERVICE_0_NAME=zero'] }),
    expected: [web()],
    warnings: ['"SERVICE_0_NAME" names port 0, outside 1-65535'],
  },
  {
    name: 'odd: env entry SERVICE_NAME without "=" is reported; other bare env names are not',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME', 'HOME', 'SERVICE_TAGS=a=b'] }),
    expected: [web({ tags: ['a=b'] })],
    warnings: ['env entry "SERVICE_NAME" has no "="'],
  },
  {
    name: 'odd: unicode names, tags and attrs pass through unchanged',
    container: inspect({ ...WEB, Labels: { SERVICE_NAME: 'café-☕', SERVICE_TAGS: 'ünïcode, 日本', SERVICE_OWNER: 'Zoë 👩‍💻' } }),
    expected: [web({ name: 'café-☕', tags: ['ünïcode', '日本'], attrs: { owner: 'Zoë 👩‍💻' } })],
  },
  {
    name: 'odd: an sctp port is reported and skipped; the tcp port is not a group',
    container: inspect({ ExposedPorts: exposed('80/tcp', '132/sctp'), Ports: published({ '80/tcp': '8080', '132/sctp': '1132' }) }),
    expected: [web()],
    warnings: ['port "132/sctp" uses protocol sctp'],
  },
  {
    name: 'odd: a non-numeric host port is reported and skipped',
    container: inspect({
      ...TWO_PORTS,
      Ports: { ...published({ '80/tcp': '8080' }), '443/tcp': [{ HostIp: '0.0.0.0', HostPort: 'https' }] },
    }),
    expected: [web()],
    warnings: ['port 443/tcp is published on host port "https", which is not a port number'],
  },
  {
    name: 'odd: a port key that is not <port>/<proto> is reported',
    container: inspect({ ...WEB, ExposedPorts: exposed('80/tcp', 'http/tcp') }),
    options: { internal: true },
    expected: [service({ id: 'h1:fx:80', name: 'busybox', port: 80, ip: BRIDGE_IP, exposedPort: 80, hostPort: 8080 })],
    warnings: ['port "http/tcp" is not of the form <port>/<proto>'],
  },
  {
    name: 'odd: a container without Config, HostConfig or NetworkSettings gives nothing',
    container: { Id: ID, Name: '/fx' } as unknown as ContainerInfo,
    expected: [],
  },
  {
    name: 'odd: null Env and Labels are treated as empty',
    container: {
      ...inspect(WEB),
      Config: { Image: 'redis', Env: null, Labels: null, ExposedPorts: exposed('80/tcp') },
    } as unknown as ContainerInfo,
    expected: [web({ name: 'redis' })],
  },

  {
    name: 'odd: SERVICE_-1_NAME and SERVICE_+80_NAME name no port (signed) and are reported',
    container: inspect({ ...WEB, Labels: { 'SERVICE_-1_NAME': 'minus', 'SERVICE_+80_NAME': 'plus' } }),
    expected: [web()],
    warnings: [
      'label "SERVICE_+80_NAME" names port +80, which is not a port number',
      'label "SERVICE_-1_NAME" names port -1, which is not a port number',
    ],
  },
  {
    name: 'odd: SERVICE_abc_NAME is not port-scoped: the attribute abc_name',
    container: inspect({ ...WEB, Env: ['SERVICE_abc_NAME=y'] }),
    expected: [web({ attrs: { abc_name: 'y' } })],
  },
  {
    name: 'odd: SERVICE_0080_NAME is port 80 (leading zeros)',
    container: inspect({ ...WEB, Labels: { SERVICE_0080_NAME: 'padded' } }),
    expected: [web({ name: 'padded' })],
  },
  {
    name: 'odd: a port number too long for a safe integer is reported',
    container: inspect({ ...WEB, Env: ['SERVICE_99999999999999999999_NAME=big'] }),
    expected: [web()],
    warnings: ['"SERVICE_99999999999999999999_NAME" names port 99999999999999999999, outside 1-65535'],
  },
  {
    name: 'odd: empty values are unset: default name, ID and no tags; an empty attribute is kept',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=', 'SERVICE_ID=', 'SERVICE_TAGS=', 'SERVICE_OWNER='] }),
    expected: [web({ attrs: { owner: '' } })],
  },
  {
    name: 'odd: an empty SERVICE_<port>_NAME beats the generic name and leaves the default, as in gliderlabs',
    container: inspect({ ...WEB, Labels: { SERVICE_NAME: 'web', SERVICE_80_NAME: '' } }),
    expected: [web()],
  },
  {
    name: 'odd: "=" in values and unicode in keys pass through (the first "=" ends an env name)',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=a=b', 'SERVICE_ÜBER=größe=1'] }),
    expected: [web({ name: 'a=b', attrs: { über: 'größe=1' } })],
  },
  {
    name: 'odd: a 100 KB attribute is kept',
    container: inspect({ ...WEB, Labels: { SERVICE_BLOB: 'b'.repeat(100 * 1024) } }),
    expected: [web({ attrs: { blob: 'b'.repeat(100 * 1024) } })],
  },
  {
    name: 'odd: a service larger than 128 KiB as JSON is reported and skipped; other ports still register',
    container: inspect({ ...TWO_PORTS, Labels: { SERVICE_443_NAME: 'n'.repeat(200_000) } }),
    expected: [web({ name: 'busybox-80' })],
    warnings: [
      'the service of port 443/tcp is 200271 bytes as JSON (a name, ID or attribute that long), more than the 131072 a registry is given for one service; skipped',
    ],
  },
  {
    name: "odd: exposures Docker's API stores unchecked are reported (-internal)",
    container: inspect({ ExposedPorts: exposed('80/tcp', '99999/tcp', '0/tcp', '-1/tcp', '80/tcp/x', '') }),
    options: { internal: true },
    expected: [service({ id: 'h1:fx:80', name: 'busybox', port: 80, ip: BRIDGE_IP, exposedPort: 80, hostPort: null, hostIp: '' })],
    warnings: [
      'port "99999/tcp" is outside 1-65535',
      'port "0/tcp" is outside 1-65535',
      'port "-1/tcp" is not of the form',
      'port "80/tcp/x" is not of the form',
      'port "" is not of the form',
    ],
  },
  {
    name: "image by short ID (12 hex of the container's image): the container name",
    container: { ...inspect({ ...WEB, Image: HEX_ID.slice(0, 12) }), Image: DIGEST } as ContainerInfo,
    expected: [web({ name: 'fx' })],
  },
  {
    name: "image named like hex but not the container's image ID: a repository name",
    container: { ...inspect({ ...WEB, Image: 'cafebabe0000' }), Image: DIGEST } as ContainerInfo,
    expected: [web({ name: 'cafebabe0000' })],
  },
  {
    name: 'image by a hex prefix shorter than 12: could be a repository name, used as one',
    container: { ...inspect({ ...WEB, Image: HEX_ID.slice(0, 6) }), Image: DIGEST } as ContainerInfo,
    expected: [web({ name: HEX_ID.slice(0, 6) })],
  },

  // Docker health, for registries that report it
  {
    name: 'health: a HEALTHCHECK container carries its Docker health status',
    container: inspect({ ...WEB, State: { Health: { Status: 'starting' } } }),
    expected: [web({ health: 'starting' })],
  },
  {
    name: 'health: an unknown health status is left out',
    container: inspect({ ...WEB, State: { Health: { Status: 'none' } } }),
    expected: [web()],
  },

  // A name or ID is one key segment (key-segment.ts); one that is not skips its service only
  {
    name: 'segment: SERVICE_NAME with "/" would read back as another name and ID: skipped',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=team/web'] }),
    expected: [],
    warnings: [
      'service name "team/web" (SERVICE_NAME) contains "/": a name or ID is one key segment (not empty, not "." or "..", ' +
        'no "/", no control character); port 80/tcp skipped',
    ],
  },
  {
    name: 'segment: SERVICE_ID with "/"',
    container: inspect({ ...WEB, Labels: { SERVICE_ID: 'x/y' } }),
    expected: [],
    warnings: ['service ID "x/y" (SERVICE_ID) contains "/": a name or ID is one key segment'],
  },
  {
    name: 'segment: a bad name and a bad ID make one warning',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=team/web', 'SERVICE_ID=x/y'] }),
    expected: [],
    warnings: ['service name "team/web" (SERVICE_NAME) contains "/" and service ID "x/y" (SERVICE_ID) contains "/": a name'],
  },
  {
    name: 'segment: a name climbing out of the prefix',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=../../registry/hosts'] }),
    expected: [],
    warnings: ['service name "../../registry/hosts" (SERVICE_NAME) contains "/"'],
  },
  {
    name: 'segment: a name of ".."',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=..'] }),
    expected: [],
    warnings: ['service name ".." (SERVICE_NAME) is ".."'],
  },
  {
    name: 'segment: a bad SERVICE_<port>_ID skips that port; the other registers',
    container: inspect({ ...TWO_PORTS, Env: ['SERVICE_80_ID=.'] }),
    expected: [tls()],
    warnings: ['service ID "." (SERVICE_80_ID) is ".": a name or ID is one key segment'],
  },
  {
    name: 'segment: a generic ".." name on several ports gets -<port>, which makes it one segment',
    container: inspect({ ...TWO_PORTS, Env: ['SERVICE_NAME=..'] }),
    expected: [web({ name: '..-80' }), tls({ name: '..-443' })],
  },
  {
    name: 'segment: a control character, escaped in the warning',
    container: inspect({ ...WEB, Labels: { SERVICE_NAME: 'we\nb' } }),
    expected: [],
    warnings: ['service name "we\\nb" (SERVICE_NAME) contains a control character (U+000A)'],
  },
  {
    name: 'segment: DEL in SERVICE_<port>_NAME',
    container: inspect({ ...WEB, Labels: { SERVICE_80_NAME: 'web\u007f' } }),
    expected: [],
    warnings: ['service name "web\\u007f" (SERVICE_80_NAME) contains a control character (U+007F)'],
  },
  {
    name: 'segment: a default name from the image',
    container: inspect({ ...WEB, Image: 'team/we\tb:1' }),
    expected: [],
    warnings: ['service name "we\\tb" (the image name) contains a control character (U+0009)'],
  },
  {
    name: 'segment: a default name from the Compose service label',
    container: inspect({ ...WEB, Labels: { 'com.docker.compose.service': '..' } }),
    options: { nameFrom: 'compose' },
    expected: [],
    warnings: ['service name ".." (label com.docker.compose.service) is ".."'],
  },
  {
    name: 'segment: a long value is cut in the warning, its length said',
    container: inspect({ ...WEB, Env: [`SERVICE_ID=a/${'x'.repeat(300)}`] }),
    expected: [],
    warnings: [`service ID "a/${'x'.repeat(198)}"... (302 characters) (SERVICE_ID) contains "/"`],
  },
  // Shrunk counterexamples key-layouts.property.test.ts found in the model before names and IDs were checked
  {
    name: 'segment (found by a property): label SERVICE_NAME="." gave /services/./<id>, outside the layout',
    container: inspect({ ...WEB, Labels: { SERVICE_NAME: '.' } }),
    expected: [],
    warnings: ['service name "." (SERVICE_NAME) is "."'],
  },
  {
    name: 'segment (found by a property): SERVICE_NAME="/" gave /services///<id>',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=/'] }),
    expected: [],
    warnings: ['service name "/" (SERVICE_NAME) contains "/"'],
  },
  {
    name: 'segment (found by a property): SERVICE_NAME="../.."',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=../..'] }),
    expected: [],
    warnings: ['service name "../.." (SERVICE_NAME) contains "/"'],
  },
  {
    name: 'segment (found by a property): a tab in label SERVICE_NAME',
    container: inspect({ ...WEB, Labels: { SERVICE_NAME: 'a\ta' } }),
    expected: [],
    warnings: ['service name "a\\ta" (SERVICE_NAME) contains a control character (U+0009)'],
  },
  {
    name: 'segment (found by a property): DEL in label SERVICE_<port>_NAME',
    container: inspect({ ...WEB, Labels: { SERVICE_80_NAME: '\u007f' } }),
    expected: [],
    warnings: ['service name "\\u007f" (SERVICE_80_NAME) contains a control character (U+007F)'],
  },
  {
    name: 'segment (found by a property): a tab in the image name, the default name',
    container: inspect({ ...WEB, Image: 'a\ta' }),
    expected: [],
    warnings: ['service name "a\\ta" (the image name) contains a control character (U+0009)'],
  },
  {
    name: 'segment: "." and "/" are fine inside a segment',
    container: inspect({ ...WEB, Env: ['SERVICE_NAME=web.v2', 'SERVICE_ID=a..b:%2F'] }),
    expected: [web({ name: 'web.v2', id: 'a..b:%2F' })],
  },
];

describe('service model (docs/registrator.md, "Services")', () => {
  it('has enough cases to cover every rule', () => {
    assert.ok(cases.length >= 45, `only ${cases.length} cases`);
  });

  for (const c of cases) {
    it(c.name, () => {
      const result = containerServices(parseContainer(c.container), options(c.options));
      assert.deepStrictEqual(result.services, c.expected);
      const expectedWarnings = c.warnings ?? [];
      assert.equal(result.warnings.length, expectedWarnings.length, `warnings: ${JSON.stringify(result.warnings)}`);
      expectedWarnings.forEach((text, i) => {
        assert.ok(result.warnings[i].startsWith(`container fx (${SHORT_ID}): `), result.warnings[i]);
        assert.ok(result.warnings[i].includes(text), `warning ${JSON.stringify(result.warnings[i])} lacks ${JSON.stringify(text)}`);
      });
    });
  }

  it('segment: a default ID from a container name with "/" (never from Docker) is skipped, naming where it came from', () => {
    const result = containerServices(parseContainer(inspect({ ...WEB, Name: '/a/b' })), options());
    assert.deepEqual(result.services, []);
    assert.deepEqual(result.warnings, [
      `container a/b (${SHORT_ID}): service ID "h1:a/b:80" (the default ID, <host>:<container name>:<port>) contains "/": ` +
        'a name or ID is one key segment (not empty, not "." or "..", no "/", no control character); port 80/tcp skipped',
    ]);
  });

  it('segment (found by a property): a NUL container name makes the default ID "h1:\\u0000:80", skipped', () => {
    const result = containerServices(parseContainer(inspect({ ...WEB, Name: '/\u0000' })), options());
    assert.deepEqual(result.services, []);
    assert.equal(result.warnings.length, 1);
    assert.ok(
      result.warnings[0].includes(
        'service ID "h1:\\u0000:80" (the default ID, <host>:<container name>:<port>) contains a control character (U+0000)',
      ),
      result.warnings[0],
    );
  });

  it('does not change the container it is given (it is frozen: a change would throw)', () => {
    const container = parseContainer(inspect({ ...TWO_PORTS, Env: ['SERVICE_NAME=web'], Labels: { SERVICE_TAGS: 'a' } }));
    const before = JSON.stringify(container);
    containerServices(container, options());
    assert.equal(JSON.stringify(container), before);
  });
});
