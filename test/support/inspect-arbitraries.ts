/**
 * fast-check arbitraries for container inspects as Docker and Podman give them, with `SERVICE_*` env and
 * labels of any text: the input of the pure planners (service model, mirror), for property tests.
 */
import fc from 'fast-check';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { segmentProblem } from '../../src/key-segment';
import type { ServiceModelOptions } from '../../src/registrator/service';

/** Characters that break key layouts, and a few that merely look odd. */
const AWKWARD = ['a', 'b', '/', '.', ':', '%', '2F', '-', ' ', '\n', '\t', '\u0000', '\u007f', '\u2028', 'é', '😀', '\\', '"'];

/**
 * Any text an engine can send (valid Unicode: both speak JSON from Go), biased towards what breaks a key
 * layout: empty, `.`, `..`, `/`, `:`, `%`, control characters, and very long values.
 */
export function anyText(maxLength = 24): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...AWKWARD), maxLength: Math.min(maxLength, 8) }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        '.',
        '..',
        '/',
        '//',
        './',
        '../..',
        '../../registry/hosts',
        'team/web',
        'x/y',
        '%2F',
        '%2e%2e',
        ':',
        'a:b',
        ' ',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('x', '/', 'é', '%', '😀'), fc.integer({ min: 200, max: 4000 })).map(([c, n]) => c.repeat(n)),
    },
    // Past the largest service a registry is given (MAX_SERVICE_BYTES): skipped whole, with a warning.
    { weight: 1, arbitrary: fc.integer({ min: 131_072, max: 140_000 }).map((n) => 'x'.repeat(n)) },
  );
}

/** Exposed ports the cases share, so generic and port-specific metadata meet. */
export const COMMON_PORTS = [53, 80, 443, 5432, 8080];

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

/** A container or image ID: 64 hex, as both engines give it. */
export const containerId = hex(64);

const portNumber = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...COMMON_PORTS) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }) },
);

const metadataKey = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'NAME',
      'ID',
      'TAGS',
      'IGNORE',
      'MODE',
      'DOMAINS',
      'EXTERNAL_PORT',
      'INTERNAL_PORT',
      'NETWORK',
      'CHECK_HTTP',
      'CHECK_TCP',
      'CHECK_TTL',
      'CHECK_DOCKER_HEALTH',
      'name',
      'Id',
    ),
  },
  { weight: 1, arbitrary: anyText(8) },
);

/** `SERVICE_<KEY>`, `SERVICE_<port>_<KEY>`, and the odd spellings the model skips with a warning. */
export const serviceKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: metadataKey.map((k) => `SERVICE_${k}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.oneof(portNumber.map(String), fc.constantFrom('0', '-1', '+80', '0080', '99999')), metadataKey)
      .map(([p, k]) => `SERVICE_${p}_${k}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('SERVICE_', 'SERVICE_80', 'SERVICE_80_') },
);

const metadataValue = fc.oneof(
  { weight: 3, arbitrary: anyText() },
  { weight: 1, arbitrary: fc.constantFrom('http', 'tcp', 'a.com,b.com', '5432', 'true', 'false', '0', 'no', '/health') },
);

/** The keys that give names and IDs, on the ports most cases publish. */
const nameOrIdKey = fc.constantFrom('SERVICE_NAME', 'SERVICE_ID', 'SERVICE_80_NAME', 'SERVICE_80_ID', 'SERVICE_443_ID', 'SERVICE_53_NAME');

/** `Config.Env`: `SERVICE_*=value` entries, bare names and other variables. */
export const env: fc.Arbitrary<string[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.tuple(nameOrIdKey, anyText()).map(([k, v]) => `${k}=${v}`) },
    { weight: 4, arbitrary: fc.tuple(serviceKey, metadataValue).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: serviceKey },
    { weight: 1, arbitrary: anyText() },
  ),
  { maxLength: 6 },
);

/** `Config.Labels` as an engine's JSON gives them (own properties, `__proto__` included): label names of any text. */
export function labels(
  names: fc.Arbitrary<string> = fc.oneof(
    { weight: 2, arbitrary: nameOrIdKey },
    { weight: 3, arbitrary: serviceKey },
    { weight: 2, arbitrary: anyText(12) },
    { weight: 1, arbitrary: fc.constantFrom('ip', 'com.docker.compose.service', 'com.docker.compose.project') },
  ),
): fc.Arbitrary<Record<string, string>> {
  return fc.uniqueArray(fc.tuple(names, metadataValue), { selector: ([k]) => k, maxLength: 6 }).map((pairs) => Object.fromEntries(pairs));
}

const binding = fc.record({
  HostIp: fc.constantFrom('', '0.0.0.0', '::', '127.0.0.1', '::1'),
  HostPort: fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 65535 }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('', '0', 'http', '70000') },
  ),
});

export interface PortSpec {
  key: string;
  exposed: boolean;
  /** Its bindings; null: exposed, not published. */
  bindings: Array<{ HostIp: string; HostPort: string }> | null;
}

/** Any set of exposed and published ports; now and then a key that is not a port (`abc/tcp`, `132/sctp`). */
export const ports: fc.Arbitrary<PortSpec[]> = fc.uniqueArray(
  fc.record({
    key: fc.oneof(
      { weight: 8, arbitrary: fc.tuple(portNumber, fc.constantFrom('tcp', 'tcp', 'udp')).map(([p, proto]) => `${p}/${proto}`) },
      { weight: 1, arbitrary: fc.constantFrom('80', 'abc/tcp', '132/sctp', '99999/tcp', '0/tcp', '') },
    ),
    exposed: fc.boolean(),
    bindings: fc.option(fc.array(binding, { minLength: 1, maxLength: 2 }), { nil: null, freq: 4 }),
  }),
  { selector: (p) => p.key, minLength: 1, maxLength: 4 },
);

/** How the container is networked. */
export type NetworkKind = 'bridge' | 'user' | 'host' | 'container';

export interface InspectInput {
  engine: 'docker' | 'podman';
  id: string;
  name: string;
  image: string;
  env: string[];
  labels: Record<string, string>;
  ports: PortSpec[];
  network: NetworkKind;
  health?: string;
  /** `--net=container:`: the other container's address (null: gone). */
  other?: string | null;
}

/** A Docker container name, mostly; now and then any text (the model must not trust it either). */
export const containerName = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,15}$/) },
  { weight: 1, arbitrary: anyText(12) },
);

const image = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'test/busybox:1',
      'redis',
      'localhost/busybox:1',
      'registry.example.com:5000/team/app:1.2',
      `redis@sha256:${'4a'.repeat(32)}`,
      `sha256:${'4a'.repeat(32)}`,
    ),
  },
  { weight: 1, arbitrary: anyText(16) },
);

export const inspectInput = (labelNames?: fc.Arbitrary<string>): fc.Arbitrary<InspectInput> =>
  fc.record(
    {
      engine: fc.constantFrom('docker', 'podman'),
      id: containerId,
      name: containerName,
      image,
      env,
      labels: labels(labelNames),
      ports,
      network: fc.constantFrom('bridge', 'bridge', 'user', 'host', 'container'),
      health: fc.constantFrom('starting', 'healthy', 'unhealthy', ''),
      other: fc.option(fc.constantFrom('172.17.0.9', ''), { nil: null }),
    },
    { requiredKeys: ['engine', 'id', 'name', 'image', 'env', 'labels', 'ports', 'network'] },
  );

/**
 * The inspect one engine gives for `input`. Docker: the default bridge `bridge` with a top-level
 * `IPAddress`, no `State.Health` without a HEALTHCHECK. Podman: network `podman`, `HostIp: ""` for every
 * address, `State.Health.Status: ""` without a check (docs/podman.md).
 */
export function toInspect(input: InspectInput): ContainerInfo {
  const podman = input.engine === 'podman';
  const bridgeName = podman ? 'podman' : 'bridge';
  const ip = podman ? '10.88.0.7' : '172.17.0.2';
  const networks: Record<string, object> =
    input.network === 'user'
      ? { appnet: { NetworkID: 'f'.repeat(64), IPAddress: '172.20.0.3', GlobalIPv6Address: 'fd00::3' } }
      : input.network === 'bridge'
        ? { [bridgeName]: { NetworkID: bridgeName, IPAddress: ip, GlobalIPv6Address: '' } }
        : {};
  const networkMode = { bridge: podman ? 'bridge' : 'default', user: 'appnet', host: 'host', container: `container:${'9f'.repeat(32)}` }[
    input.network
  ];
  const published: Record<string, unknown> = {};
  const exposed: Record<string, object> = {};
  for (const p of input.ports) {
    if (p.exposed || p.bindings === null) exposed[p.key] = {};
    // Podman reports a port published on every address with HostIp "".
    published[p.key] = p.bindings?.map((b) => (podman && b.HostIp === '0.0.0.0' ? { ...b, HostIp: '' } : b)) ?? null;
  }
  const health = podman ? { Status: input.health ?? '' } : input.health ? { Status: input.health } : undefined;
  const info = {
    Id: input.id,
    Created: '2026-12-01T07:34:06.777725312Z',
    Name: `/${input.name}`,
    Image: `sha256:${'4a'.repeat(32)}`,
    State: { Status: 'running', Running: true, Paused: false, ExitCode: 0, ...(health ? { Health: health } : {}) },
    HostConfig: { NetworkMode: networkMode },
    Config: {
      Hostname: input.id.slice(0, 12),
      Image: input.image,
      Env: input.env,
      Labels: input.labels,
      ExposedPorts: exposed,
    },
    NetworkSettings: {
      IPAddress: input.network === 'bridge' ? ip : '',
      Ports: input.network === 'host' || input.network === 'container' ? {} : published,
      Networks: networks,
    },
  } as unknown as ContainerInfo;
  if (input.network === 'container') {
    info.networkContainer =
      input.other === null || input.other === undefined
        ? null
        : ({
            Id: '9f'.repeat(32),
            Name: '/pod',
            Config: {},
            NetworkSettings: { IPAddress: input.other, Networks: { bridge: { IPAddress: input.other } } },
          } as unknown as ContainerInfo);
  }
  return info;
}

/** A host name the daemon accepts (`-host`): one key segment, no whitespace. */
export const hostName = fc.oneof(
  fc.constantFrom('h1', 'node-7', 'host.example.com', 'h:1', '%41'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((h) => segmentProblem(h) === undefined && !/\s/.test(h)),
);

/** The daemon's options that shape services. */
export const modelOptions: fc.Arbitrary<ServiceModelOptions> = fc.record({
  host: hostName,
  hostIp: fc.constantFrom('10.0.0.5', '2001:db8::5', ''),
  hostIpv6: fc.constantFrom('2001:db8::5', ''),
  internal: fc.boolean(),
  explicit: fc.boolean(),
  tags: fc.oneof(fc.constant(''), anyText(12)),
  useIpFromLabel: fc.constantFrom('', 'ip', 'SERVICE_NAME'),
  ttl: fc.constantFrom(0, 30),
  network: fc.constantFrom('', 'appnet', 'bridge'),
  nameFrom: fc.constantFrom('image', 'compose'),
});
