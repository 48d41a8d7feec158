import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { serviceFromMeta } from '../../src/registrator/consul/meta';
import type { Service } from '../../src/registrator/service';
import { AgentService, ConsulAgentStandIn } from '../support/consul-agent';
import { DaemonProcess } from '../support/daemon';
import { dockerEngineUnderTest, EngineContainers, podmanEngineUnderTest } from '../support/engines';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';

/**
 * The cases that matter most, against each engine through its Docker API: dockerd, and a rootful
 * Podman API service (docs/podman.md). One suite, parametrised by the engine.
 */
const IP = '10.7.7.7';
/** `SR_ENGINES=podman` (or `docker`) runs one leg only, when working on it. */
const only = process.env.SR_ENGINES?.split(',');
const engines = [dockerEngineUnderTest(), podmanEngineUnderTest()].filter((e) => !only || only.includes(e.name));

for (const engine of engines) {
  describe(`${engine.name}: mirror, services, health, signals and API restarts`, () => {
    const HOST = `eng-${engine.name}-${process.pid}`;
    const RUN = `${engine.name}-${process.pid}`;
    const NETWORK = `sr-eng-${RUN}`;
    const containers = new EngineContainers(engine, `engines-${RUN}`);
    let etcd: EtcdServer;
    let daemon: DaemonProcess;
    let preId: string;
    let prePort: number;

    const env = () => ({
      EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
      EC_REGISTRATOR_HOST: HOST,
      EC_REGISTRATOR_DOCKER_SOCKET: engine.socket,
    });
    const startDaemon = async (args: string[], host = HOST): Promise<DaemonProcess> => {
      const d = new DaemonProcess(args, { ...env(), EC_REGISTRATOR_HOST: host });
      await d.waitUntilHealthy(60_000);
      return d;
    };
    const services = ['-ip', IP, 'hamesh:///mesh', 'etcd:///services'];

    /** Waits until etcd holds exactly the keys docs/mirror.md gives for the container as the engine shows it now. */
    async function assertMirrored(id: string): Promise<void> {
      let expected: Record<string, string> = {};
      await waitFor(
        `mirror of ${id.slice(0, 12)}`,
        async () => {
          expected = sorted(expectedMirror(await engine.inspect(id), HOST));
          return JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected);
        },
        20_000,
      ).catch(async (err) => assert.deepEqual(sorted(await heldFor(etcd, id)), expected, String(err)));
    }
    async function assertGone(id: string): Promise<void> {
      await waitFor(`removal of ${id.slice(0, 12)}`, async () => Object.keys(await heldFor(etcd, id)).length === 0, 20_000).catch(
        async (err) => assert.deepEqual(await heldFor(etcd, id), {}, String(err)),
      );
    }
    /** This suite's keys under `prefix` (the engine runs other tests' containers too; their names do not carry RUN). */
    const ours = async (prefix: string) =>
      Object.fromEntries(Object.entries(await etcd.tree(prefix)).filter(([k]) => k.includes(`-${RUN}`)));
    /** This suite's keys under `prefix` of these containers (their service IDs hold `:<name>:`). */
    const keysOf =
      (...names: string[]) =>
      async (prefix: string) =>
        Object.fromEntries(Object.entries(await ours(prefix)).filter(([k]) => names.some((name) => k.includes(`:${name}:`))));
    /** Waits until etcd holds exactly `expected` as this suite's keys under `prefix`. */
    async function assertTree(prefix: string, expected: Record<string, string>, of = ours): Promise<void> {
      const want = JSON.stringify(sorted(expected));
      await waitFor(`${prefix} as expected`, async () => JSON.stringify(await of(prefix)) === want, 20_000).catch(async (err) =>
        assert.deepEqual(await of(prefix), sorted(expected), String(err)),
      );
    }

    before(async () => {
      await engine.start();
      etcd = await EtcdServer.start();
      await engine.cli(['network', 'create', NETWORK]);
      prePort = await freePorts(2);
      // Published on every address (Podman: HostIp ""), a udp port, an exposed-only port, labels.
      preId = await containers.run([
        '--name',
        `pre-${RUN}`,
        '--label',
        'SERVICE_NAME=web',
        '--label',
        'com.example.role=web',
        '-p',
        `${prePort}:80`,
        '-p',
        `${prePort + 1}:53/udp`,
        '--expose',
        '9000',
        engine.image,
        'httpd',
        '-f',
        '-p',
        '80',
      ]);
      daemon = await startDaemon(services);
    });

    after(async () => {
      await daemon?.kill();
      await containers.removeAll();
      await engine.cli(['network', 'rm', NETWORK]).catch(() => undefined);
      await etcd?.stop();
      await engine.stop();
    });

    it('mirrors a container running before start key for key, and registers its tcp and udp ports in hamesh and etcd', async () => {
      await assertMirrored(preId);
      const tree = await etcd.tree(`/registry/containers/${preId}/network/ports/`);
      assert.equal(tree[`/registry/containers/${preId}/network/ports/80-tcp/extIp`], '0.0.0.0');
      assert.equal(tree[`/registry/containers/${preId}/network/ports/9000-tcp/extPort`], '');
      const name = `pre-${RUN}`;
      await assertTree('/mesh/', {
        [`/mesh/web-80/${HOST}:${name}:80/address`]: IP,
        [`/mesh/web-80/${HOST}:${name}:80/port`]: String(prePort),
        [`/mesh/web-80/${HOST}:${name}:80/mode`]: 'tcp',
        [`/mesh/web-53/${HOST}:${name}:53:udp/address`]: IP,
        [`/mesh/web-53/${HOST}:${name}:53:udp/port`]: String(prePort + 1),
        [`/mesh/web-53/${HOST}:${name}:53:udp/mode`]: 'tcp',
      });
      await assertTree('/services/', {
        [`/services/web-80/${HOST}:${name}:80`]: `${IP}:${prePort}`,
        [`/services/web-53/${HOST}:${name}:53:udp`]: `${IP}:${prePort + 1}`,
      });
    });

    it('follows a new container through pause, rename, stop, and another through rm -f', async () => {
      const id = await containers.run(['--name', `new-${RUN}`, '--label', 'tier=batch', '-p', '80', engine.image, 'sleep', '1000']);
      const removed = await containers.run(['--label', 'gone=now', engine.image, 'sleep', '1000']);
      await assertMirrored(id);
      await assertMirrored(removed);
      const port = (await engine.inspect(id)).NetworkSettings.Ports['80/tcp'][0].HostPort;
      await waitFor(
        'registered',
        async () => (await etcd.tree('/services/'))[`/services/busybox/${HOST}:new-${RUN}:80`] === `${IP}:${port}`,
      );
      await engine.cli(['pause', id]);
      await waitFor(
        'state paused',
        async () => (await etcd.tree(`/registry/containers/${id}/state`))[`/registry/containers/${id}/state`] === 'paused',
      );
      await assertMirrored(id);
      await engine.cli(['unpause', id]);
      await engine.cli(['rename', id, `renamed-${RUN}`]);
      await assertMirrored(id);
      const hosts = await etcd.tree(`/registry/hosts/${HOST}/`);
      assert.equal(hosts[`/registry/hosts/${HOST}/renamed-${RUN}`], id);
      assert.equal(hosts[`/registry/hosts/${HOST}/new-${RUN}`], undefined);
      await engine.cli(['stop', ...engine.stopNow, id]);
      await engine.cli(['rm', '-f', ...(engine.name === 'podman' ? ['-t', '0'] : []), removed]);
      await assertGone(id);
      await assertGone(removed);
      await waitFor(
        'deregistered',
        async () => (await etcd.tree('/services/busybox/'))[`/services/busybox/${HOST}:new-${RUN}:80`] === undefined,
      );
    });

    it('-internal registers the container address on a non-default network; -deregister on-success keeps one that failed', async () => {
      const internal = await startDaemon(['--no-mirror', '-internal', '-deregister', 'on-success', 'hamesh:///mesh-int'], `${HOST}-int`);
      try {
        const on = await containers.run([
          '--name',
          `int-${RUN}`,
          '--network',
          NETWORK,
          '-e',
          'SERVICE_NAME=api',
          '--expose',
          '8080',
          engine.image,
          'sleep',
          '1000',
        ]);
        // Exits 3 when told to (a file appears): registered first, then kept.
        const fails = await containers.run([
          '--name',
          `fails-${RUN}`,
          '--network',
          NETWORK,
          '-e',
          'SERVICE_NAME=job',
          '--expose',
          '7000',
          engine.image,
          'sh',
          '-c',
          'while [ ! -f /stop ]; do sleep 0.2; done; exit 3',
        ]);
        const address = async (id: string) => (await engine.inspect(id)).NetworkSettings.Networks[NETWORK].IPAddress;
        const int = `/mesh-int/api/${HOST}-int:int-${RUN}:8080/`;
        const job = `/mesh-int/job/${HOST}-int:fails-${RUN}:7000/`;
        const expected = {
          [`${int}address`]: await address(on),
          [`${int}port`]: '8080',
          [`${int}mode`]: 'tcp',
          [`${job}address`]: await address(fails),
          [`${job}port`]: '7000',
          [`${job}mode`]: 'tcp',
        };
        assert.match(expected[`${int}address`], /^\d+\.\d+\.\d+\.\d+$/);
        // The containers of this case (the internal daemon registers the others too).
        const these = keysOf(`int-${RUN}`, `fails-${RUN}`);
        await assertTree('/mesh-int/', expected, these);
        await engine.cli(['exec', fails, 'touch', '/stop']);
        await waitFor('exited 3', async () => (await engine.inspect(fails)).State.ExitCode === 3, 20_000);
        await internal.reconcileOn('SIGHUP');
        assert.deepEqual(await these('/mesh-int/'), sorted(expected));
      } finally {
        await internal.kill();
      }
    });

    it('skydns2 and consul:// register a tcp and a udp published port exactly, and deregister them on stop', async () => {
      const consul = await ConsulAgentStandIn.start();
      const host = `${HOST}-dns`;
      const dns = await startDaemon(['--no-mirror', '-ip', IP, 'skydns2:///skydns.local', `consul://${consul.address}`], host);
      try {
        const name = `dns-${RUN}`;
        // Published on every address (Podman: HostIp ""), ports chosen by the engine.
        const id = await containers.run([
          '--name',
          name,
          '--label',
          'SERVICE_NAME=dns',
          '--label',
          'SERVICE_TAGS=a, b',
          '-p',
          '80',
          '-p',
          '53/udp',
          engine.image,
          'sleep',
          '1000',
        ]);
        const info = await engine.inspect(id);
        const port = (key: string) => Number(info.NetworkSettings.Ports[key][0].HostPort);
        const [tcp, udp] = [port('80/tcp'), port('53/udp')];
        const tcpId = `${host}:${name}:80`;
        const udpId = `${host}:${name}:53:udp`;
        const these = keysOf(name);
        await assertTree(
          '/skydns/',
          {
            [`/skydns/local/skydns/dns-80/${tcpId}`]: JSON.stringify({ host: IP, port: tcp }),
            [`/skydns/local/skydns/dns-53/${udpId}`]: JSON.stringify({ host: IP, port: udp }),
          },
          these,
        );

        // The agent's services for this container, exactly, the ownership record's pieces of Meta read
        // back as the service they hold (registrator_service_0, _1, ...: docs/registrator.md).
        const agentServices = () =>
          [...consul.services.values()]
            .filter((s) => s.ID.includes(`:${name}:`))
            .sort((a, b) => a.ID.localeCompare(b.ID))
            .map((s) => ({
              ...s,
              Meta: Object.fromEntries(Object.entries(s.Meta).filter(([key]) => !/^registrator_service_\d+$/.test(key))),
              record: serviceFromMeta(s.Meta),
            }));
        const service = (ID: string, Service: string, Tags: string[], Port: number, exposedPort: number, proto: 'tcp' | 'udp') => {
          const held: AgentService = {
            ID,
            Service,
            Tags,
            Meta: { registrator_host: host },
            Port,
            Address: IP,
            Weights: { Passing: 1, Warning: 1 },
            EnableTagOverride: false,
            Datacenter: 'dc1',
          };
          const record: Service = {
            id: ID,
            name: Service,
            port: Port,
            ip: IP,
            tags: Tags,
            attrs: {},
            origin: {
              containerId: id,
              containerName: name,
              hostPort: Port,
              exposedPort,
              proto,
              hostIp: '0.0.0.0',
              hostname: info.Config.Hostname,
            },
          };
          return { ...held, record };
        };
        const expected = [
          service(tcpId, 'dns-80', ['a', 'b'], tcp, 80, 'tcp'),
          service(udpId, 'dns-53', ['a', 'b', 'udp'], udp, 53, 'udp'),
        ].sort((a, b) => a.ID.localeCompare(b.ID));
        await waitFor('consul services', () => isDeepStrictEqual(agentServices(), expected), 20_000).catch((err) =>
          assert.deepStrictEqual(agentServices(), expected, String(err)),
        );
        assert.deepEqual(
          [...consul.checks.values()].filter((c) => c.ServiceID.includes(`:${name}:`)),
          [],
          'no SERVICE_CHECK_*: no check',
        );

        await engine.cli(['stop', ...engine.stopNow, id]);
        await assertTree('/skydns/', {}, these);
        await waitFor('consul deregistration', () => agentServices().length === 0, 20_000);
        const deregistered = consul
          .requestsTo('PUT', '/v1/agent/service/deregister/')
          .filter((r) => r.status === 200)
          .map((r) => r.path.slice('/v1/agent/service/deregister/'.length))
          .filter((sid) => sid.includes(`:${name}:`))
          .sort();
        assert.deepEqual(deregistered, [tcpId, udpId].sort());
      } finally {
        await dns.kill();
        await consul.stop();
      }
    });

    it('holds a container with a health check only while healthy', async () => {
      const id = await containers.run([
        '--health-cmd',
        '/bin/busybox test -f /ok',
        '--health-interval',
        '1s',
        '--health-retries',
        '1',
        engine.image,
        'sh',
        '-c',
        '/bin/busybox touch /ok; exec /bin/busybox sleep 1000',
      ]);
      assert.equal((await engine.inspect(id)).State.Health?.Status, 'starting');
      assert.deepEqual(await heldFor(etcd, id), {});
      await engine.runHealthCheck(id);
      await waitFor('healthy', async () => (await engine.inspect(id)).State.Health?.Status === 'healthy', 20_000);
      await assertMirrored(id);
      await engine.cli(['exec', id, 'rm', '/ok']);
      await engine.runHealthCheck(id);
      await waitFor('unhealthy', async () => (await engine.inspect(id)).State.Health?.Status === 'unhealthy', 20_000);
      await assertGone(id);
      assert.equal((await engine.inspect(id)).State.Running, true, 'the container itself still runs');
    });

    it('reconnects after its API service restarted while containers changed, and converges', async () => {
      const stays = await containers.run(['--label', 'phase=before', engine.image, 'sleep', '1000']);
      const stops = await containers.run(['--label', 'phase=before', engine.image, 'sleep', '1000']);
      await assertMirrored(stays);
      await assertMirrored(stops);
      const reconciled = await daemon.reconciliations();
      let started = '';
      await engine.apiOutage(async () => {
        await daemon.waitForDocker('disconnected');
        await engine.cli(['stop', ...engine.stopNow, stops]);
        started = await containers.run(['--label', 'phase=during', engine.image, 'sleep', '1000']);
      });
      await daemon.waitForDocker('connected', 30_000);
      await daemon.waitForReconciliations(reconciled + 1, 'success', 30_000);
      await assertMirrored(started);
      await assertGone(stops);
      await assertMirrored(stays);
      // And events flow again.
      await engine.cli(['stop', ...engine.stopNow, stays]);
      await assertGone(stays);
    });

    it('SIGHUP restores a deleted key; SIGUSR2 purges every host and writes this one back', async () => {
      await assertMirrored(preId);
      await etcd.client.delete().key(`/registry/containers/${preId}/image`);
      await daemon.reconcileOn('SIGHUP');
      await assertMirrored(preId);
      await etcd.client.put('/registry/containers/other/host').value('other-host');
      await etcd.client.put('/mesh/other/other-host:x:80/address').value('10.0.0.9');
      await daemon.reconcileOn('SIGUSR2', 30_000);
      await assertMirrored(preId);
      assert.equal((await etcd.tree('/registry/containers/other/'))['/registry/containers/other/host'], undefined);
      assert.equal((await etcd.tree('/mesh/other/'))['/mesh/other/other-host:x:80/address'], undefined);
      assert.ok(Object.keys(await ours(`/mesh/web-80/`)).length > 0, 'hamesh written back');
    });

    it('SIGINT stops and keeps the data; SIGTERM deletes what this host wrote', async () => {
      await assertMirrored(preId);
      // What this host wrote for the first container (the engine's other containers come and go meanwhile).
      const preData = async () =>
        Object.fromEntries(Object.entries(await etcd.tree('/')).filter(([k]) => k.includes(preId) || k.includes(`pre-${RUN}`)));
      const kept = await preData();
      assert.ok(Object.keys(kept).some((k) => k.startsWith('/mesh/')) && Object.keys(kept).some((k) => k.startsWith('/services/')));
      daemon.signal('SIGINT');
      assert.equal(await daemon.exited, 0);
      assert.deepEqual(await preData(), kept);
      daemon = await startDaemon(services);
      daemon.signal('SIGTERM');
      assert.equal(await daemon.exited, 0);
      assert.deepEqual(await heldFor(etcd, preId), {});
      assert.deepEqual(await etcd.tree('/mesh/'), {});
      assert.deepEqual(await etcd.tree('/services/'), {});
    });
  });
}
