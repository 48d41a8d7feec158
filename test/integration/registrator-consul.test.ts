import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import winston from 'winston';
import { ConsulAgentBackend } from '../../src/registrator/consul/agent-backend';
import { ConsulClient, ConsulError } from '../../src/registrator/consul/client';
import type { Service } from '../../src/registrator/service';
import { AgentService, ConsulAgentOptions, ConsulAgentStandIn } from '../support/consul-agent';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { makeTestPki } from '../support/pki';
import { waitFor } from '../support/wait';
import { anotherHostsService } from '../support/service-record';

/**
 * The Consul backends against real dockerd, the daemon as a process, and a Consul agent stand-in
 * (test/support/consul-agent.ts) built from Consul's API documentation: no real Consul runs here.
 */

const RUN = `cs${process.pid}`;
const HOST = `consul-${process.pid}`;
const IP = '10.9.8.7';

const containers = new TestContainers(`consul-${process.pid}`);
const daemons: DaemonProcess[] = [];
const agents: ConsulAgentStandIn[] = [];
const tmpDirs: string[] = [];

/** Starts the daemon (mirror off unless asked) and, unless told not to, waits for its first reconciliation. */
async function startDaemon(
  uris: string[],
  options: { env?: NodeJS.ProcessEnv; host?: string; args?: string[]; mirror?: boolean; wait?: boolean } = {},
): Promise<DaemonProcess> {
  const args = [...(options.mirror ? [] : ['--no-mirror']), '-ip', IP, ...(options.args ?? []), ...uris];
  const daemon = new DaemonProcess(args, { EC_REGISTRATOR_HOST: options.host ?? HOST, ...options.env });
  daemons.push(daemon);
  if (options.wait !== false) await daemon.waitForReconciliations(1);
  return daemon;
}

async function agent(options: ConsulAgentOptions = {}): Promise<ConsulAgentStandIn> {
  const a = await ConsulAgentStandIn.start(options);
  agents.push(a);
  return a;
}

/** `docker run` with a name unique to this run; returns the container ID. */
function run(name: string, args: string[], cmd: string[] = ['sleep', '1000']): Promise<string> {
  return containers.run(['--name', `${name}-${RUN}`, ...args, TEST_IMAGE, ...cmd]);
}

async function hostPort(id: string, spec = '80/tcp'): Promise<number> {
  return Number((await containers.inspect(id)).NetworkSettings.Ports[spec][0].HostPort);
}

/** The service ID the daemon of `host` gives port 80 of container `name`. */
function sid(name: string, port = 80, host = HOST): string {
  return `${host}:${name}-${RUN}:${port}`;
}

/** Services this run's containers gave (other test files' containers may run on the same engine). */
function mine(a: ConsulAgentStandIn): string[] {
  return [...a.services.keys()].filter((id) => id.includes(`-${RUN}:`)).sort();
}

/** The last registration body sent for a service ID. */
function lastRegistration(a: ConsulAgentStandIn, id: string): Record<string, unknown> {
  const bodies = a.requestsTo('PUT', '/v1/agent/service/register').filter((r) => (r.json as { ID?: string })?.ID === id);
  assert.ok(bodies.length > 0, `no registration of ${id}`);
  return bodies[bodies.length - 1].json as Record<string, unknown>;
}

/** Meta without the ownership record pieces, and the service the record holds. */
function splitMeta(meta: Record<string, string>): { plain: Record<string, string>; record: Service } {
  const plain: Record<string, string> = {};
  let json = '';
  for (const key of Object.keys(meta)) if (!key.startsWith('registrator_service_')) plain[key] = meta[key];
  for (let i = 0; meta[`registrator_service_${i}`] !== undefined; i++) json += meta[`registrator_service_${i}`];
  return { plain, record: JSON.parse(json) as Service };
}

before(async () => {
  await ensureTestImage();
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.kill()));
  await containers.removeAll();
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

after(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

describe('consul:// against real dockerd and the agent stand-in', () => {
  it('registers every check type with the exact agent API JSON, and deregisters a removed container', async () => {
    const a = await agent();
    const daemon = await startDaemon([`consul://${a.address}`]);
    const web = await run('web', [
      '-p',
      '80',
      '-e',
      'SERVICE_NAME=web',
      '-e',
      'SERVICE_TAGS=a,b',
      '-e',
      'SERVICE_VERSION=1.2',
      '--label',
      'SERVICE_BAD.KEY=x',
      '-e',
      'SERVICE_CHECK_HTTP=/health',
      '-e',
      'SERVICE_CHECK_TIMEOUT=2s',
      '-e',
      'SERVICE_CHECK_HTTP_METHOD=head',
    ]);
    const secure = await run('secure', [
      '-p',
      '80',
      '-e',
      'SERVICE_NAME=secure',
      '-e',
      'SERVICE_CHECK_HTTPS=/ready',
      '-e',
      'SERVICE_CHECK_TLS_SKIP_VERIFY=true',
      '-e',
      'SERVICE_CHECK_INTERVAL=15s',
      '-e',
      'SERVICE_CHECK_INITIAL_STATUS=passing',
    ]);
    const tcp = await run('tcp', [
      '-p',
      '80',
      '-e',
      'SERVICE_NAME=tcp',
      '-e',
      'SERVICE_CHECK_TCP=true',
      '-e',
      'SERVICE_CHECK_DEREGISTER_AFTER=10m',
    ]);
    const grpc = await run('grpc', [
      '-p',
      '80',
      '-e',
      'SERVICE_NAME=grpc',
      '-e',
      'SERVICE_CHECK_GRPC=/grpc.health.v1.Health',
      '-e',
      'SERVICE_CHECK_GRPC_USE_TLS=true',
      '-e',
      'SERVICE_CHECK_TLS_SKIP_VERIFY=1',
    ]);
    const script = await run('script', [
      '-p',
      '80',
      '-e',
      'SERVICE_NAME=script',
      '-e',
      `SERVICE_CHECK_SCRIPT=sh -c 'nc -z $SERVICE_IP $SERVICE_PORT' "--label=a b" it\\'s`,
    ]);
    const ttl = await run('ttl', ['-p', '80', '-e', 'SERVICE_NAME=ttl', '-e', 'SERVICE_CHECK_TTL=45s']);
    // Port-specific: only 443 gets the check.
    const dual = await run('dual', ['-p', '80', '-p', '443', '-e', 'SERVICE_NAME=dual', '-e', 'SERVICE_443_CHECK_HTTPS=/']);
    const ids = ['web', 'secure', 'tcp', 'grpc', 'script', 'ttl', 'dual'].map((n) => sid(n)).concat(sid('dual', 443));
    await waitFor('all registered', () => ids.every((id) => a.services.has(id)));

    const p = {
      web: await hostPort(web),
      secure: await hostPort(secure),
      tcp: await hostPort(tcp),
      grpc: await hostPort(grpc),
      script: await hostPort(script),
      ttl: await hostPort(ttl),
      dual80: await hostPort(dual),
      dual443: await hostPort(dual, '443/tcp'),
    };
    const expected: Record<string, { Name: string; Tags: string[]; Port: number; Meta: Record<string, string>; Check?: unknown }> = {
      [sid('web')]: {
        Name: 'web',
        Tags: ['a', 'b'],
        Port: p.web,
        Meta: { version: '1.2' },
        Check: { CheckID: `service:${sid('web')}`, HTTP: `http://${IP}:${p.web}/health`, Method: 'HEAD', Interval: '10s', Timeout: '2s' },
      },
      [sid('secure')]: {
        Name: 'secure',
        Tags: [],
        Port: p.secure,
        Meta: {},
        Check: {
          CheckID: `service:${sid('secure')}`,
          HTTP: `https://${IP}:${p.secure}/ready`,
          Interval: '15s',
          TLSSkipVerify: true,
          Status: 'passing',
        },
      },
      [sid('tcp')]: {
        Name: 'tcp',
        Tags: [],
        Port: p.tcp,
        Meta: {},
        Check: { CheckID: `service:${sid('tcp')}`, TCP: `${IP}:${p.tcp}`, Interval: '10s', DeregisterCriticalServiceAfter: '10m' },
      },
      [sid('grpc')]: {
        Name: 'grpc',
        Tags: [],
        Port: p.grpc,
        Meta: {},
        Check: {
          CheckID: `service:${sid('grpc')}`,
          GRPC: `${IP}:${p.grpc}/grpc.health.v1.Health`,
          GRPCUseTLS: true,
          Interval: '10s',
          TLSSkipVerify: true,
        },
      },
      [sid('script')]: {
        Name: 'script',
        Tags: [],
        Port: p.script,
        Meta: {},
        Check: {
          CheckID: `service:${sid('script')}`,
          Args: ['sh', '-c', `nc -z ${IP} ${p.script}`, '--label=a b', "it's"],
          Interval: '10s',
        },
      },
      [sid('ttl')]: { Name: 'ttl', Tags: [], Port: p.ttl, Meta: {}, Check: { CheckID: `service:${sid('ttl')}`, TTL: '45s' } },
      [sid('dual')]: { Name: 'dual-80', Tags: [], Port: p.dual80, Meta: {} },
      [sid('dual', 443)]: {
        Name: 'dual-443',
        Tags: [],
        Port: p.dual443,
        Meta: {},
        Check: { CheckID: `service:${sid('dual', 443)}`, HTTP: `https://${IP}:${p.dual443}/`, Interval: '10s' },
      },
    };
    for (const [id, e] of Object.entries(expected)) {
      const body = lastRegistration(a, id);
      const { plain, record } = splitMeta(body.Meta as Record<string, string>);
      assert.deepStrictEqual(
        { ...body, Meta: plain },
        {
          ID: id,
          Name: e.Name,
          Tags: e.Tags,
          Address: IP,
          Port: e.Port,
          Meta: { ...e.Meta, registrator_host: HOST },
          ...(e.Check ? { Check: e.Check } : {}),
        },
        id,
      );
      assert.deepStrictEqual(
        [record.id, record.name, record.ip, record.port],
        [id, e.Name, IP, e.Port],
        `${id}: the service record in Meta`,
      );
      // What the agent holds is what was sent.
      assert.deepStrictEqual(a.services.get(id)?.Meta, body.Meta);
    }
    for (const r of a.requestsTo('PUT', '/v1/agent/service/register'))
      assert.equal(r.query['replace-existing-checks'], '', 'replace-existing-checks is set');
    // The check IDs are what Consul shows.
    assert.equal(a.check(`service:${sid('ttl')}`)?.Type, 'ttl');
    assert.equal(a.check(`service:${sid('secure')}`)?.Status, 'passing');

    // The Meta key Consul would refuse is left out with a warning naming the container and key.
    const warning = daemon.lines.find((l) => l.message === 'service attribute not used as given' && l.key === 'bad.key');
    assert.ok(warning, 'a warning for bad.key');
    assert.equal(warning.container, `web-${RUN}`);
    assert.equal(warning.service, sid('web'));

    await dockerCli(['rm', '-f', web]);
    await waitFor('web deregistered', () => !a.services.has(sid('web')));
    assert.equal(a.requestsTo('PUT', `/v1/agent/service/deregister/${sid('web')}`).length, 1);
    assert.equal(a.check(`service:${sid('web')}`), undefined, 'its check went with it');
    assert.ok(a.services.has(sid('tcp')), 'the others stay');
    assert.ok(
      a.requests.every((r) => r.status < 400),
      `no request was refused: ${JSON.stringify(a.requests.filter((r) => r.status >= 400).map((r) => [r.path, r.status]))}`,
    );
  });

  it('a HEALTHCHECK container with SERVICE_CHECK_DOCKER_HEALTH gets a TTL check that is passing while healthy', async () => {
    const a = await agent();
    await startDaemon([`consul://${a.address}`]);
    const id = await run(
      'healthy',
      [
        '-p',
        '80',
        '-e',
        'SERVICE_NAME=healthy',
        '-e',
        'SERVICE_CHECK_DOCKER_HEALTH=true',
        '--health-cmd',
        '/bin/busybox test -f /ok',
        '--health-interval',
        '1s',
        '--health-retries',
        '1',
      ],
      ['sh', '-c', '/bin/busybox touch /ok; exec /bin/busybox sleep 1000'],
    );
    const service = sid('healthy');
    const checkId = `service:${service}:docker-health`;
    // Registered while still starting (critical); the health_status event turns it passing in place.
    await waitFor('registered and passing', () => a.services.has(service) && a.check(checkId)?.Status === 'passing', 20_000);
    assert.deepStrictEqual(lastRegistration(a, service).Check, { CheckID: checkId, Name: 'Docker health', TTL: '30s', Status: 'passing' });
    assert.equal(a.check(checkId)?.Status, 'passing');
    assert.deepStrictEqual(a.requestsTo('PUT', `/v1/agent/check/update/${checkId}`).at(-1)?.json, {
      Status: 'passing',
      Output: 'Docker health status: healthy',
    });
    assert.equal((await containers.inspect(id)).State.Health?.Status, 'healthy');
  });

  it('Docker health drives the TTL check: critical while starting, passing when healthy, critical when unhealthy, registered throughout', async () => {
    const a = await agent();
    await startDaemon([`consul://${a.address}`]);
    const id = await run('flip', [
      '-p',
      '80',
      '-e',
      'SERVICE_NAME=flip',
      '-e',
      'SERVICE_CHECK_DOCKER_HEALTH=true',
      '--health-cmd',
      '/bin/busybox test -f /ok',
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      '--health-start-period',
      '60s',
    ]);
    const service = sid('flip');
    const checkId = `service:${service}:docker-health`;
    assert.equal((await containers.inspect(id)).State.Health?.Status, 'starting');
    await waitFor('registered while starting, critical', () => a.services.has(service) && a.check(checkId)?.Status === 'critical', 10_000);
    await dockerCli(['exec', id, '/bin/busybox', 'touch', '/ok']);
    await waitFor('passing once healthy', () => a.check(checkId)?.Status === 'passing', 10_000);
    await dockerCli(['exec', id, '/bin/busybox', 'rm', '/ok']);
    await waitFor('critical once unhealthy', () => a.check(checkId)?.Status === 'critical', 10_000);
    assert.equal((await containers.inspect(id)).State.Health?.Status, 'unhealthy');
    assert.ok(a.services.has(service), 'still registered while unhealthy');
  });

  it('sends CONSUL_HTTP_TOKEN as X-Consul-Token on every call; without it the agent refuses and the daemon keeps running', async () => {
    const token = 's3cret-consul-token';
    const a = await agent({ token });
    const withToken = await startDaemon([`consul://${a.address}`], { env: { CONSUL_HTTP_TOKEN: token } });
    await run('tok', ['-p', '80', '-e', 'SERVICE_NAME=tok']);
    await waitFor('registered', () => a.services.has(sid('tok')));
    const fromDaemon = a.requests.filter((r) => r.path.startsWith('/v1/agent/'));
    assert.ok(fromDaemon.length >= 2);
    assert.ok(fromDaemon.every((r) => r.headers['x-consul-token'] === token && r.status === 200));

    const other = `${HOST}-b`;
    const without = await startDaemon([`consul://${a.address}`], { host: other, wait: false });
    await without.waitForReconciliations(1, 'failure');
    assert.ok(a.requests.some((r) => r.status === 403 && r.headers['x-consul-token'] === undefined));
    assert.ok(![...a.services.keys()].some((k) => k.startsWith(`${other}:`)));
    assert.equal((await without.reconciliations('failure')) >= 1, true);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await Promise.race([without.exited, Promise.resolve('running')]), 'running');
    for (const d of [withToken, without]) assert.ok(!JSON.stringify(d.lines).includes(token), 'the token never reaches a log line');
  });

  it('consul-tls:// with a CA and a client certificate (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY)', async () => {
    const pki = await makeTestPki('consul');
    tmpDirs.push(pki.dir);
    const a = await agent({ tls: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ca: readFileSync(pki.ca) } });
    await startDaemon([`consul-tls://${a.address}`], {
      env: { CONSUL_CACERT: pki.ca, CONSUL_CLIENT_CERT: pki.clientCert, CONSUL_CLIENT_KEY: pki.clientKey },
    });
    await run('tls', ['-p', '80', '-e', 'SERVICE_NAME=tls']);
    await waitFor('registered over TLS', () => a.services.has(sid('tls')));
    assert.ok(
      a.requests.length > 0 && a.requests.every((r) => r.clientCertCN === 'consul-client'),
      'every request presented the client certificate',
    );
  });

  it('consul-tls:// refuses an agent whose certificate another CA signed, and the daemon keeps running', async () => {
    const [pki, stranger] = await Promise.all([makeTestPki('consul'), makeTestPki('stranger')]);
    tmpDirs.push(pki.dir, stranger.dir);
    const a = await agent({ tls: { cert: readFileSync(stranger.serverCert), key: readFileSync(stranger.serverKey) } });
    const daemon = await startDaemon([`consul-tls://${a.address}`], { env: { CONSUL_CACERT: pki.ca }, wait: false });
    // Why it is unreachable, which the operator reads, is in the log line only.
    await daemon.waitForLog('writer unreachable; retrying');
    assert.equal(a.requests.length, 0, 'nothing was sent to an agent that could not prove who it is');
    const failure = daemon.lines.find((l) => l.message === 'writer unreachable; retrying');
    assert.match(String(failure?.err), /certificate/i);
  });

  it('bad Consul TLS settings are a startup error: exit 2, one line naming the file, nothing sent', async () => {
    const a = await agent();
    const missing = new DaemonProcess(['--no-mirror', `consul-tls://${a.address}`], {
      EC_REGISTRATOR_HOST: HOST,
      CONSUL_CACERT: '/nonexistent/ca.pem',
    });
    daemons.push(missing);
    assert.equal(await missing.exited, 2);
    assert.equal(missing.stderr.join(''), 'registrator: CONSUL_CACERT file "/nonexistent/ca.pem" cannot be read: ENOENT\n');
    const half = new DaemonProcess(['--no-mirror', `consul-tls://${a.address}`], {
      EC_REGISTRATOR_HOST: HOST,
      CONSUL_CLIENT_CERT: '/etc/hostname',
    });
    daemons.push(half);
    assert.equal(await half.exited, 2);
    assert.match(half.stderr.join(''), /^registrator: CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY\n$/);
    const [one, two] = await Promise.all([makeTestPki('one'), makeTestPki('two')]);
    tmpDirs.push(one.dir, two.dir);
    const mismatched = new DaemonProcess(['--no-mirror', `consul-tls://${a.address}`], {
      EC_REGISTRATOR_HOST: HOST,
      CONSUL_CLIENT_CERT: one.clientCert,
      CONSUL_CLIENT_KEY: two.clientKey,
    });
    daemons.push(mismatched);
    assert.equal(await mismatched.exited, 2);
    assert.match(mismatched.stderr.join(''), /^registrator: Consul TLS files .* are not usable: .*key values mismatch\n$/);
    assert.equal(a.requests.length, 0);
  });

  it('consul-unix:// talks to the agent over a unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-consul-sock-'));
    tmpDirs.push(dir);
    const socketPath = join(dir, 'consul.sock');
    const a = await agent({ socketPath });
    await startDaemon([`consul-unix://${socketPath}`]);
    const id = await run('sock', ['-p', '80', '-e', 'SERVICE_NAME=sock']);
    await waitFor('registered over the socket', () => a.services.has(sid('sock')));
    assert.equal(a.services.get(sid('sock'))?.Port, await hostPort(id));
    await dockerCli(['stop', '-t', '1', id]);
    await waitFor('deregistered over the socket', () => !a.services.has(sid('sock')));
  });

  it('two hosts on one agent: SIGTERM removes only its own; after SIGKILL and a removed container, a restart removes only its dead one', async () => {
    const a = await agent();
    // Registered by hand: no ownership marker, never touched.
    a.putService({ ID: 'manual-db', Service: 'db', Port: 5432, Address: '10.0.0.2' });
    const hostA = `${HOST}-a`;
    const hostB = `${HOST}-b`;
    const uri = `consul://${a.address}`;
    /** IDs deregistered since request number `from`, of this run's containers only (other test files' containers run on this engine too). */
    const deregisteredSince = (from: number) =>
      a
        .requestsTo('PUT', '/v1/agent/service/deregister/')
        .slice(from)
        .map((r) => r.path.slice('/v1/agent/service/deregister/'.length))
        .filter((id) => id.includes(`-${RUN}:`) || id === 'custom-two');
    const daemonA = await startDaemon([uri], { host: hostA });
    let daemonB = await startDaemon([uri], { host: hostB });
    await run('one', ['-p', '80', '-e', 'SERVICE_NAME=one']);
    await run('two', ['-p', '80', '-e', 'SERVICE_NAME=two', '-e', 'SERVICE_ID=custom-two']);
    await run('three', ['-p', '80', '-e', 'SERVICE_NAME=three']);
    // Both hosts see the same containers. A custom SERVICE_ID is the same on both: the agent keeps one
    // service under it, marked for whichever host registered it last.
    const all = [sid('one', 80, hostA), sid('one', 80, hostB), sid('three', 80, hostA), sid('three', 80, hostB), 'custom-two'];
    await waitFor('both hosts registered', () => all.every((id) => a.services.has(id)));
    assert.ok([hostA, hostB].includes(a.services.get('custom-two')!.Meta.registrator_host));

    daemonA.signal('SIGTERM');
    assert.equal(await daemonA.exited, 0);
    assert.deepStrictEqual(mine(a), [sid('one', 80, hostB), sid('three', 80, hostB)].sort(), "A's services are gone, B's stay");
    assert.ok(a.services.has('manual-db'), 'the hand-made service stays');
    for (const id of deregisteredSince(0)) assert.ok(id.startsWith(`${hostA}:`) || id === 'custom-two', `deregistered ${id}`);

    await startDaemon([uri], { host: hostA });
    await waitFor('A registered again', () => a.services.has(sid('one', 80, hostA)) && a.services.has(sid('three', 80, hostA)));

    daemonB.signal('SIGKILL');
    await daemonB.exited;
    await dockerCli(['rm', '-f', `one-${RUN}`]);
    await waitFor('A removes its own service of the removed container', () => !a.services.has(sid('one', 80, hostA)));
    assert.ok(a.services.has(sid('one', 80, hostB)), 'B is down: its registration is still there');

    const before = a.requestsTo('PUT', '/v1/agent/service/deregister/').length;
    daemonB = await startDaemon([uri], { host: hostB });
    await waitFor("B's stale registration removed at start", () => !a.services.has(sid('one', 80, hostB)));
    assert.deepStrictEqual(deregisteredSince(before), [sid('one', 80, hostB)], 'B removed its dead registration and nothing else');
    assert.deepStrictEqual(mine(a), [sid('three', 80, hostA), sid('three', 80, hostB)].sort());
    assert.ok(a.services.has('manual-db'));
    assert.ok(a.services.has('custom-two'));
  });

  it('SIGHUP re-registers a service deregistered or changed behind its back', async () => {
    const a = await agent();
    const daemon = await startDaemon([`consul://${a.address}`]);
    await run('gone', ['-p', '80', '-e', 'SERVICE_NAME=gone']);
    await run('edited', ['-p', '80', '-e', 'SERVICE_NAME=edited', '-e', 'SERVICE_CHECK_TCP=true']);
    await waitFor('registered', () => a.services.has(sid('gone')) && a.services.has(sid('edited')));
    const original = structuredClone(a.services.get(sid('edited'))!);
    a.services.delete(sid('gone'));
    (a.services.get(sid('edited')) as AgentService).Port = 1;
    a.checks.delete(`service:${sid('edited')}`);
    daemon.signal('SIGHUP');
    await waitFor(
      'both back as registered',
      () =>
        a.services.has(sid('gone')) &&
        a.services.get(sid('edited'))?.Port === original.Port &&
        a.check(`service:${sid('edited')}`) !== undefined,
    );
    assert.deepStrictEqual(a.services.get(sid('edited')), original);
  });

  it('Consul down at start: the daemon keeps running, the mirror keeps working, and registrations appear once the agent is up', async () => {
    const etcd = await EtcdServer.start();
    try {
      const a = await ConsulAgentStandIn.down();
      agents.push(a);
      const before = await run('early', ['-p', '80', '-e', 'SERVICE_NAME=early']);
      const daemon = await startDaemon([`consul://${a.address}`], {
        mirror: true,
        env: { EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint },
        wait: false,
      });
      await daemon.waitForWriterState('writer.consul', 'unreachable');
      // The mirror does not wait for Consul: the container running before the start is there at once.
      await waitFor(
        'the mirror has the container started before',
        async () => (await etcd.client.get(`/registry/containers/${before}/id`).string()) === before,
      );
      const later = await run('later', ['-p', '80', '-e', 'SERVICE_NAME=later']);
      await waitFor(
        'the mirror has the container started meanwhile',
        async () => (await etcd.client.get(`/registry/containers/${later}/id`).string()) === later,
      );
      assert.equal(await Promise.race([daemon.exited, Promise.resolve('running')]), 'running');

      await a.listen();
      await waitFor('registered once Consul answers', () => a.services.has(sid('early')) && a.services.has(sid('later')), 40_000);
      await daemon.waitForMetric('registrator_writer_reachable', { writer: 'writer.consul' }, 1);
    } finally {
      await etcd.stop();
    }
  });
});

describe('consulkv:// and consul://host/<path> against real dockerd and the agent stand-in', () => {
  it('writes <prefix>/<name>/<id> = ip:port with ownership records, removes them on stop, SIGTERM leaves other hosts alone', async () => {
    const a = await agent();
    // Another host's key and ownership record under the same prefix.
    const other = anotherHostsService('other:db:5432', { hostIp: '', hostname: '' });
    a.kv.set('services/db/other:db:5432', { value: Buffer.from('10.0.0.2:5432'), flags: 0, createIndex: 1, modifyIndex: 1 });
    a.kv.set('_registrator/owners/other/consulkv/services/other%3Adb%3A5432', {
      value: Buffer.from(JSON.stringify(other)),
      flags: 0,
      createIndex: 1,
      modifyIndex: 1,
    });
    const daemon = await startDaemon([`consulkv://${a.address}/services`, `consul://${a.address}/kvpath/sub`]);
    const web = await run('kvweb', ['-p', '80', '-e', 'SERVICE_NAME=kvweb']);
    const dns = await run('kvdns', ['-p', '53/udp', '-e', 'SERVICE_NAME=kvdns', '-e', 'SERVICE_ID=custom%dns']);
    const pWeb = await hostPort(web);
    const pDns = await hostPort(dns, '53/udp');
    const expected = {
      [`services/kvweb/${sid('kvweb')}`]: `${IP}:${pWeb}`,
      'services/kvdns/custom%dns': `${IP}:${pDns}`,
      [`kvpath/sub/kvweb/${sid('kvweb')}`]: `${IP}:${pWeb}`,
      'kvpath/sub/kvdns/custom%dns': `${IP}:${pDns}`,
    };
    const ours = () =>
      Object.fromEntries(
        Object.entries({ ...a.kvTree('services/'), ...a.kvTree('kvpath/') }).filter(
          ([k]) => k.includes(`-${RUN}:`) || k.includes('custom%dns'),
        ),
      );
    await waitFor('keys written', () => Object.keys(ours()).length === 4);
    assert.deepStrictEqual(ours(), expected);
    const record = JSON.parse(
      a.kvTree(`_registrator/owners/${HOST}/consulkv/services/`)[`_registrator/owners/${HOST}/consulkv/services/custom%25dns`],
    ) as Service;
    assert.equal(record.id, 'custom%dns');
    assert.ok(a.kvTree(`_registrator/owners/${HOST}/consulkv/kvpath/sub/`)[`_registrator/owners/${HOST}/consulkv/kvpath/sub/custom%25dns`]);
    // Values go as they are, not JSON-encoded.
    assert.equal(a.requestsTo('PUT', '/v1/kv/services/kvdns/custom%dns').at(-1)?.body, `${IP}:${pDns}`);

    await dockerCli(['rm', '-f', web]);
    await waitFor(
      'web keys and their ownership records removed',
      () =>
        !(`services/kvweb/${sid('kvweb')}` in ours()) &&
        !(`kvpath/sub/kvweb/${sid('kvweb')}` in ours()) &&
        !Object.keys(a.kvTree(`_registrator/owners/${HOST}/`)).some((k) => k.includes('kvweb')),
    );
    assert.ok(`services/kvdns/custom%dns` in ours());

    daemon.signal('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.deepStrictEqual(ours(), {});
    assert.deepStrictEqual(a.kvTree(`_registrator/owners/${HOST}/`), {});
    assert.equal(a.kvTree('services/')['services/db/other:db:5432'], '10.0.0.2:5432');
    assert.ok(a.kvTree('_registrator/owners/other/')['_registrator/owners/other/consulkv/services/other%3Adb%3A5432']);
  });

  it('a key another host has taken over since is left alone at deregistration', async () => {
    const a = await agent();
    await startDaemon([`consulkv://${a.address}/services`]);
    const id = await run('taken', ['-p', '80', '-e', 'SERVICE_NAME=taken']);
    const key = `services/taken/${sid('taken')}`;
    await waitFor('written', () => a.kv.has(key));
    a.kv.set(key, { value: Buffer.from('10.0.0.99:80'), flags: 0, createIndex: 1, modifyIndex: 999 });
    await dockerCli(['rm', '-f', id]);
    await waitFor('ownership record removed', () => Object.keys(a.kvTree(`_registrator/owners/${HOST}/`)).length === 0);
    assert.equal(a.kvTree('services/')[key], '10.0.0.99:80');
  });
});

describe('the Consul agent backend as the daemon calls it', () => {
  const log = winston.createLogger({ silent: true });
  const service = (health: Service['origin']['health'], attrs: Record<string, string> = { check_docker_health: 'true' }): Service => ({
    id: 'h1:app:80',
    name: 'app',
    port: 8080,
    ip: '10.0.0.5',
    tags: [],
    attrs,
    origin: {
      containerId: 'a'.repeat(64),
      containerName: 'app',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: '',
      ...(health ? { health } : {}),
    },
  });

  it('refresh() re-sends the docker-health status; setDockerHealth() sets it', async () => {
    const a = await agent();
    const backend = new ConsulAgentBackend(new ConsulClient({ endpoint: { kind: 'tcp', host: '127.0.0.1', port: a.port } }), {
      host: 'h1',
      description: 'test',
      log,
    });
    try {
      await backend.register(service('starting'));
      const checkId = 'service:h1:app:80:docker-health';
      assert.equal(a.check(checkId)?.Status, 'critical');
      await backend.refresh(service('healthy'));
      assert.equal(a.check(checkId)?.Status, 'passing');
      assert.equal(a.check(checkId)?.Output, 'Docker health status: healthy');
      // The Meta record follows the refreshed service, so owned() gives back what the daemon holds.
      assert.equal((await backend.owned())[0].service.origin.health, 'healthy');
      assert.equal(await backend.setDockerHealth(service('healthy'), 'unhealthy'), true);
      assert.equal(a.check(checkId)?.Status, 'critical');
      assert.equal(await backend.setDockerHealth(service(undefined, {})), false, 'no docker-health check, nothing sent');
      assert.deepStrictEqual(
        a.requestsTo('PUT', `/v1/agent/check/update/${checkId}`).map((r) => r.json),
        [
          { Status: 'critical', Output: 'Docker health status: starting' },
          { Status: 'passing', Output: 'Docker health status: healthy' },
          { Status: 'critical', Output: 'Docker health status: unhealthy' },
        ],
      );
    } finally {
      await backend.close();
    }
  });

  it('keeps docker-health statuses alive between refreshes, also for services found after a restart, until deregistered or closed', async () => {
    const a = await agent();
    const client = () => new ConsulClient({ endpoint: { kind: 'tcp', host: '127.0.0.1', port: a.port } });
    const checkId = 'service:h1:app:80:docker-health';
    const updates = () => a.requestsTo('PUT', `/v1/agent/check/update/${checkId}`).length;
    const first = new ConsulAgentBackend(client(), { host: 'h1', description: 'test', log, keepaliveMs: 100 });
    await first.register(service('healthy'));
    const afterRegister = updates();
    await waitFor('status sent again', () => updates() >= afterRegister + 3, 3_000, 20);
    assert.ok(a.requestsTo('PUT', `/v1/agent/check/update/${checkId}`).every((r) => (r.json as { Status: string }).Status === 'passing'));
    await first.close();
    const atClose = updates();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(updates() <= atClose + 1, 'no keepalive after close()');

    // A new daemon finds the service in the agent and keeps its status alive without registering it again.
    const second = new ConsulAgentBackend(client(), { host: 'h1', description: 'test', log, keepaliveMs: 100 });
    try {
      const registrations = a.requestsTo('PUT', '/v1/agent/service/register').length;
      assert.equal((await second.owned()).length, 1);
      const afterOwned = updates();
      await waitFor('status sent by the new backend', () => updates() >= afterOwned + 2, 3_000, 20);
      assert.equal(a.requestsTo('PUT', '/v1/agent/service/register').length, registrations);
      await second.deregister(service('healthy'));
      const atDeregister = updates();
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(updates() <= atDeregister + 1, 'no keepalive after deregistration');
      assert.ok(
        a.requests.every((r) => r.status < 400),
        'nothing refused',
      );
    } finally {
      await second.close();
    }
  });

  it("owned(): this host only, intact unless changed; deregister() leaves another host's service under the same ID", async () => {
    const a = await agent();
    const client = () => new ConsulClient({ endpoint: { kind: 'tcp', host: '127.0.0.1', port: a.port } });
    const h1 = new ConsulAgentBackend(client(), { host: 'h1', description: 'test', log });
    const h2 = new ConsulAgentBackend(client(), { host: 'h2', description: 'test', log });
    try {
      const s = service(undefined, { check_tcp: 'true', version: '3' });
      await h1.register(s);
      await h2.register({ ...s, id: 'h2:app:80' });
      a.putService({ ID: 'manual', Service: 'manual' });
      assert.deepStrictEqual(
        (await h1.owned()).map((o) => [o.service.id, o.intact]),
        [['h1:app:80', true]],
      );
      assert.deepStrictEqual((await h1.owned())[0].service, s);
      a.services.get('h1:app:80')!.Tags = ['edited'];
      assert.deepStrictEqual(
        (await h1.owned()).map((o) => o.intact),
        [false],
      );
      await h1.register(s);
      a.checks.delete('service:h1:app:80');
      assert.deepStrictEqual(
        (await h1.owned()).map((o) => o.intact),
        [false],
        'a lost check is not intact either',
      );

      // h2 re-registers h1's ID as its own: h1's deregistration leaves it.
      await h2.register(s);
      await h1.deregister(s);
      assert.equal(a.services.get('h1:app:80')?.Meta.registrator_host, 'h2');
      await h2.deregister(s);
      assert.ok(!a.services.has('h1:app:80'));
      await h2.deregister(s); // already gone: fine
    } finally {
      await h1.close();
      await h2.close();
    }
  });
});

describe('the Consul agent stand-in validates like Consul', () => {
  it('bad JSON, unknown fields, bad Meta, bad checks: 400; unknown IDs: 404; wrong method: 405', async () => {
    const a = await agent();
    const c = new ConsulClient({ endpoint: { kind: 'tcp', host: '127.0.0.1', port: a.port } });
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (err: unknown) => (err instanceof ConsulError ? err.status : -1),
      );
    try {
      assert.equal(await status(c.request('PUT', '/v1/agent/service/register', { raw: '{"Name":' })), 400);
      assert.equal(await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Bogus: 1 } })), 400);
      assert.equal(await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Port: '80' } })), 400);
      assert.equal(await status(c.request('PUT', '/v1/agent/service/register', { json: { ID: 'x' } })), 400);
      assert.equal(await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Meta: { 'a.b': '1' } } })), 400);
      assert.equal(await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Meta: { 'consul-x': '1' } } })), 400);
      assert.equal(
        await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Meta: { a: 'v'.repeat(513) } } })),
        400,
      );
      assert.equal(
        await status(
          c.request('PUT', '/v1/agent/service/register', {
            json: { Name: 'x', Meta: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, ''])) },
          }),
        ),
        400,
      );
      assert.equal(
        await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Check: { HTTP: 'http://a/' } } })),
        400,
        'HTTP without Interval',
      );
      assert.equal(
        await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Check: { TTL: '10' } } })),
        400,
        'duration without unit',
      );
      assert.equal(
        await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Check: { TTL: '10s', Status: 'ok' } } })),
        400,
      );
      assert.equal(
        await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Check: { TTL: '10s', Script: 'x' } } })),
        400,
        'the pre-1.0 Script field is gone',
      );
      assert.equal(
        await status(c.request('PUT', '/v1/agent/service/register', { json: { Name: 'x', Meta: { a: '1' }, Check: { TTL: '10s' } } })),
        200,
      );
      assert.equal(a.check('service:x')?.Status, 'critical');
      assert.equal(await status(c.request('PUT', '/v1/agent/service/deregister/nope')), 404);
      assert.equal(await status(c.request('GET', '/v1/agent/service/nope')), 404);
      assert.equal(await status(c.request('PUT', '/v1/agent/check/update/nope', { json: { Status: 'passing' } })), 404);
      assert.equal(await status(c.request('PUT', '/v1/agent/check/update/service:x', { json: { Status: 'fine' } })), 400);
      assert.equal(await status(c.request('GET', '/v1/agent/service/deregister/x')), 405);
      assert.equal(await status(c.request('PUT', '/v1/agent/check/pass/service:x')), 200);
      assert.equal(a.check('service:x')?.Status, 'passing');
    } finally {
      c.close();
    }
  });

  it('with a token: 403 without it or with another one; status endpoints stay open', async () => {
    const a = await agent({ token: 't' });
    const status = (token: string | undefined, path: string) => {
      const c = new ConsulClient({ endpoint: { kind: 'tcp', host: '127.0.0.1', port: a.port }, token });
      return c
        .request('GET', path)
        .then(
          () => 200,
          (err: ConsulError) => err.status,
        )
        .finally(() => c.close());
    };
    assert.equal(await status(undefined, '/v1/agent/services'), 403);
    assert.equal(await status('u', '/v1/agent/services'), 403);
    assert.equal(await status('t', '/v1/agent/services'), 200);
    assert.equal(await status(undefined, '/v1/status/leader'), 200);
  });

  it('the client gives up at its deadline on an agent that does not answer', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const c = new ConsulClient({ endpoint: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 300 });
    const started = Date.now();
    try {
      await assert.rejects(c.leader(), (err: Error) => err.name === 'ConsulTimeoutError' && /no answer within 300 ms/.test(err.message));
      assert.ok(Date.now() - started < 2_000);
    } finally {
      c.close();
      silent.close();
    }
  });
});
