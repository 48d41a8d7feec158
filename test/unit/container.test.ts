import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { inactiveReason, networkAddress, parseContainer } from '../../src/docker/container';
import { ID, inspect } from '../fixtures/inspect';
import { PODMAN_OTHER_NETWORK_INSPECT, PODMAN_WEB_ID, PODMAN_WEB_INSPECT, podmanHealthInspect } from '../fixtures/podman';

const OTHER_ID = 'ab'.repeat(32);

describe('parseContainer', () => {
  it('a Docker inspect: every field, as written', () => {
    const c = parseContainer({
      ...inspect({
        Name: '/web',
        Labels: {
          role: 'api',
          'com.docker.compose.project': 'shop',
          'com.docker.compose.service': 'cart',
        },
        Env: ['SERVICE_NAME=cart', 'TERM=xterm'],
        Hostname: 'web-host',
        NetworkMode: 'shop_default',
        IPAddress: '',
        GlobalIPv6Address: '',
        Networks: { shop_default: { IPAddress: '10.5.0.2', GlobalIPv6Address: 'fd00::2' }, alpha: { IPAddress: '' } },
        ExposedPorts: { '80/tcp': {}, '9000/tcp': {} },
        Ports: {
          '80/tcp': [
            { HostIp: '0.0.0.0', HostPort: '8080' },
            { HostIp: '::', HostPort: '8080' },
          ],
          '9000/tcp': null,
        },
      }),
      Image: 'sha256:' + 'c'.repeat(64),
    } as ContainerInfo);
    assert.deepEqual(c, {
      id: ID,
      name: 'web',
      created: '2026-11-21T10:14:15.302659367Z',
      image: { configured: 'test/busybox:1', id: 'sha256:' + 'c'.repeat(64) },
      labels: { role: 'api', 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'cart' },
      env: ['SERVICE_NAME=cart', 'TERM=xterm'],
      hostname: 'web-host',
      state: { status: 'running', running: true, paused: false, restarting: false, exitCode: 0, health: undefined, active: true },
      networkMode: { kind: 'network', name: 'shop_default' },
      bridge: { ipv4: '', ipv6: '' },
      networks: [
        { name: 'alpha', id: 'alpha', ipv4: '', ipv6: '', aliases: [] },
        { name: 'shop_default', id: 'shop_default', ipv4: '10.5.0.2', ipv6: 'fd00::2', aliases: [] },
      ],
      ports: [
        {
          spec: '80/tcp',
          exposed: true,
          listed: true,
          bindings: [
            { hostIp: '0.0.0.0', hostPort: '8080' },
            { hostIp: '::', hostPort: '8080' },
          ],
        },
        { spec: '9000/tcp', exposed: true, listed: true, bindings: null },
      ],
      compose: { project: 'shop', service: 'cart' },
      swarm: undefined,
      networkContainer: undefined,
    });
  });

  it('is immutable, nested values included', () => {
    const c = parseContainer(inspect({ Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } }));
    assert.ok(Object.isFrozen(c));
    for (const part of [
      c.image,
      c.labels,
      c.env,
      c.state,
      c.networkMode,
      c.bridge,
      c.networks,
      c.networks[0],
      c.ports,
      c.ports[0],
      c.ports[0].bindings,
    ])
      assert.ok(Object.isFrozen(part));
    assert.throws(() => ((c as { name: string }).name = 'x'), TypeError);
  });

  it('state: stopped with an exit code, paused, restarting, and health as Docker reports it', () => {
    const exited = parseContainer(inspect({ State: { Status: 'exited', Running: false, ExitCode: 3 } }));
    assert.deepEqual(exited.state, {
      status: 'exited',
      running: false,
      paused: false,
      restarting: false,
      exitCode: 3,
      health: undefined,
      active: false,
    });
    const paused = parseContainer(inspect({ State: { Status: 'paused', Paused: true } }));
    assert.deepEqual(paused.state, {
      status: 'paused',
      running: true,
      paused: true,
      restarting: false,
      exitCode: 0,
      health: undefined,
      active: true,
    });
    const restarting = parseContainer(inspect({ State: { Status: 'restarting', Restarting: true } }));
    assert.equal(restarting.state.running, false);
    assert.equal(restarting.state.active, false);
    assert.equal(parseContainer(inspect({ State: { Health: { Status: 'none' } } })).state.health, undefined);
    for (const [health, active] of [
      ['starting', false],
      ['healthy', true],
      ['unhealthy', false],
    ] as const) {
      const s = parseContainer(inspect({ State: { Health: { Status: health } } })).state;
      assert.deepEqual([s.health, s.active], [health, active], health);
    }
  });

  it('network mode: host, container:<ref> with the container it names, the default bridge', () => {
    assert.deepEqual(parseContainer(inspect({ NetworkMode: 'host', Networks: {} })).networkMode, { kind: 'host' });
    assert.deepEqual(parseContainer(inspect()).networkMode, { kind: 'network', name: '' });
    const bridge = parseContainer(inspect({ NetworkMode: 'default', IPAddress: '172.17.0.4', GlobalIPv6Address: 'fd00::4' }));
    assert.deepEqual(bridge.networkMode, { kind: 'network', name: 'default' });
    assert.deepEqual(bridge.bridge, { ipv4: '172.17.0.4', ipv6: 'fd00::4' });
    assert.equal(networkAddress(bridge, 'ipv4', 'by-name'), '172.17.0.4');

    const sidecar = inspect({ Name: '/side', NetworkMode: `container:${OTHER_ID}`, Networks: {} });
    const shared = parseContainer({ ...sidecar, networkContainer: inspect({ Id: OTHER_ID, Name: '/main', NetworkMode: 'host' }) });
    assert.deepEqual(shared.networkMode, { kind: 'container', reference: OTHER_ID });
    assert.equal(shared.networkContainer?.name, 'main');
    assert.deepEqual(shared.networkContainer?.networkMode, { kind: 'host' });
    assert.equal(parseContainer({ ...sidecar, networkContainer: null }).networkContainer, null);
    assert.equal(parseContainer(sidecar).networkContainer, undefined);
  });

  it('networkAddress: the two fallbacks differ only for a container started on a network that does not sort first', () => {
    const c = parseContainer(
      inspect({ NetworkMode: 'net-b', Networks: { 'net-a': { IPAddress: '10.0.1.2' }, 'net-b': { IPAddress: '10.0.2.2' } } }),
    );
    assert.equal(networkAddress(c, 'ipv4', 'by-name'), '10.0.1.2');
    assert.equal(networkAddress(c, 'ipv4', 'own-network-then-by-name'), '10.0.2.2');
    const bridge = parseContainer(
      inspect({ IPAddress: '172.17.0.9', NetworkMode: 'net-b', Networks: { 'net-b': { IPAddress: '10.0.2.2' } } }),
    );
    assert.equal(networkAddress(bridge, 'ipv4', 'own-network-then-by-name'), '172.17.0.9');
    assert.equal(networkAddress(parseContainer(inspect({ Networks: {} })), 'ipv6', 'by-name'), '');
  });

  it('inactiveReason: why writers do not hold it (not running, restarting, or its health), none while active', () => {
    assert.equal(inactiveReason(parseContainer(inspect())), undefined);
    assert.equal(inactiveReason(parseContainer(inspect({ State: { Running: false } }))), 'the container is not running');
    assert.equal(inactiveReason(parseContainer(inspect({ State: { Running: true, Restarting: true } }))), 'the container is not running');
    assert.equal(
      inactiveReason(parseContainer(inspect({ State: { Health: { Status: 'starting' } } }))),
      "the container's health is starting",
    );
    assert.equal(inactiveReason(parseContainer(inspect({ State: { Health: { Status: 'healthy' } } }))), undefined);
  });

  it('networks: sorted by name, with ID, both addresses and aliases', () => {
    const c = parseContainer(
      inspect({
        Networks: {
          zeta: { IPAddress: '10.9.0.2' },
          beta: { IPAddress: '', GlobalIPv6Address: 'fd00:b::2', Aliases: ['db', 7, 'db.local'] } as never,
        },
      }),
    );
    assert.deepEqual(c.networks, [
      { name: 'beta', id: 'beta', ipv4: '', ipv6: 'fd00:b::2', aliases: ['db', 'db.local'] },
      { name: 'zeta', id: 'zeta', ipv4: '10.9.0.2', ipv6: '', aliases: [] },
    ]);
    // The mirror's IP skips a network without an IPv4 address (docs/mirror.md, "IP").
    assert.equal(networkAddress(c, 'ipv4', 'by-name'), '10.9.0.2');
  });

  it('ports: published keys first, then exposed-only ones (in object key order: a bare port first), every spelling kept as written', () => {
    const c = parseContainer(
      inspect({
        ExposedPorts: { '53/udp': {}, '80': {}, 'abc/tcp': {} },
        Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
      }),
    );
    assert.deepEqual(c.ports, [
      { spec: '80/tcp', exposed: false, listed: true, bindings: [{ hostIp: '127.0.0.1', hostPort: '8080' }] },
      { spec: '80', exposed: true, listed: false, bindings: null },
      { spec: '53/udp', exposed: true, listed: false, bindings: null },
      { spec: 'abc/tcp', exposed: true, listed: false, bindings: null },
    ]);
  });

  it('Swarm: the service ref, name and task from Docker labels, and the service the daemon attached', () => {
    const labels = {
      'com.docker.swarm.service.id': 'svc1',
      'com.docker.swarm.service.name': 'web',
      'com.docker.swarm.task.id': 'task1',
    };
    const task = inspect({ Labels: labels });
    assert.deepEqual(parseContainer(task).swarm, { serviceId: 'svc1', serviceName: 'web', taskId: 'task1', service: undefined });
    assert.equal(parseContainer({ ...task, swarmService: null }).swarm?.service, null);
    const withService = parseContainer({
      ...task,
      swarmService: {
        ID: 'svc1',
        Spec: { Name: 'web' },
        Endpoint: { Ports: [{ TargetPort: 80, Protocol: 'tcp', PublishedPort: 8080, PublishMode: 'ingress' }, { TargetPort: 53 }] },
      },
    } as ContainerInfo);
    assert.deepEqual(withService.swarm?.service, {
      id: 'svc1',
      name: 'web',
      ports: [
        { targetPort: 80, protocol: 'tcp', publishedPort: 8080, publishMode: 'ingress' },
        { targetPort: 53, protocol: undefined, publishedPort: undefined, publishMode: undefined },
      ],
    });
    assert.deepEqual(parseContainer(inspect({ Labels: { 'com.docker.swarm.service.id': 'svc2' } })).swarm, {
      serviceId: 'svc2',
      serviceName: undefined,
      taskId: undefined,
      service: undefined,
    });
    assert.equal(parseContainer(inspect()).swarm, undefined);
    assert.equal(parseContainer(inspect()).compose, undefined);
  });

  it('a Podman inspect in Docker\'s words: `HostIp: ""` is every address, `Health.Status: ""` no health check', () => {
    const c = parseContainer(PODMAN_WEB_INSPECT);
    assert.deepEqual(c, {
      id: PODMAN_WEB_ID,
      name: 'pm-w',
      created: '2026-12-01T07:34:06.777725312Z',
      image: { configured: 'localhost/busybox:1', id: 'sha256:83dc14e1e4054d905cdca0da17cbd2ed4642a116bc1e035f49ed021e8663ccdb' },
      labels: {},
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'container=podman', 'HOSTNAME=9cb4e3f940c9'],
      hostname: '9cb4e3f940c9',
      state: { status: 'running', running: true, paused: false, restarting: false, exitCode: 0, health: undefined, active: true },
      networkMode: { kind: 'network', name: 'bridge' },
      bridge: { ipv4: '10.88.0.7', ipv6: '' },
      networks: [{ name: 'podman', id: 'podman', ipv4: '10.88.0.7', ipv6: '', aliases: [] }],
      ports: [
        { spec: '53/udp', exposed: true, listed: true, bindings: [{ hostIp: '0.0.0.0', hostPort: '18193' }] },
        { spec: '80/tcp', exposed: true, listed: true, bindings: [{ hostIp: '0.0.0.0', hostPort: '18191' }] },
        { spec: '81/tcp', exposed: true, listed: true, bindings: [{ hostIp: '127.0.0.1', hostPort: '18192' }] },
        { spec: '9000/tcp', exposed: true, listed: true, bindings: null },
      ],
      compose: undefined,
      swarm: undefined,
      networkContainer: undefined,
    });
    const other = parseContainer(PODMAN_OTHER_NETWORK_INSPECT);
    assert.deepEqual(other.bridge, { ipv4: '', ipv6: '' });
    assert.deepEqual(other.networkMode, { kind: 'network', name: 'bridge' });
    assert.equal(networkAddress(other, 'ipv4', 'by-name'), '10.89.0.2');
    assert.equal(networkAddress(other, 'ipv4', 'own-network-then-by-name'), '10.89.0.2');
    assert.deepEqual(other.ports, [{ spec: '80/tcp', exposed: true, listed: true, bindings: [{ hostIp: '0.0.0.0', hostPort: '18194' }] }]);
    for (const [health, active] of [
      ['starting', false],
      ['healthy', true],
      ['unhealthy', false],
    ] as const) {
      const s = parseContainer(podmanHealthInspect(health)).state;
      assert.deepEqual([s.health, s.active], [health, active], health);
    }
  });

  it('an inspect of an unforeseen shape reads as absent fields, never throws', () => {
    const c = parseContainer({
      Id: ID,
      Config: null,
      State: null,
      NetworkSettings: { Networks: null, Ports: { '80/tcp': 'x' } },
      HostConfig: {},
    } as unknown as ContainerInfo);
    assert.deepEqual(
      { ...c, state: undefined },
      {
        id: ID,
        name: '',
        created: '',
        image: { configured: '', id: '' },
        labels: {},
        env: [],
        hostname: '',
        state: undefined,
        networkMode: { kind: 'network', name: '' },
        bridge: { ipv4: '', ipv6: '' },
        networks: [],
        ports: [{ spec: '80/tcp', exposed: false, listed: true, bindings: null }],
        compose: undefined,
        swarm: undefined,
        networkContainer: undefined,
      },
    );
    assert.deepEqual(c.state, {
      status: undefined,
      running: false,
      paused: false,
      restarting: false,
      exitCode: 0,
      health: undefined,
      active: false,
    });
  });
});

describe('state.active: which containers writers hold', () => {
  const table: Array<[string, Parameters<typeof inspect>[0], boolean]> = [
    ['running', {}, true],
    ['paused (still running)', { State: { Status: 'paused', Paused: true } }, true],
    ['exited', { State: { Status: 'exited', Running: false } }, false],
    ['restarting', { State: { Status: 'restarting', Restarting: true } }, false],
    ['healthcheck starting', { State: { Health: { Status: 'starting' } } }, false],
    ['healthcheck healthy', { State: { Health: { Status: 'healthy' } } }, true],
    ['healthcheck unhealthy', { State: { Health: { Status: 'unhealthy' } } }, false],
  ];
  for (const [name, overrides, expected] of table) {
    it(name, () => assert.equal(parseContainer(inspect(overrides)).state.active, expected));
  }
});
