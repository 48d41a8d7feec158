import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConsulAgentStandIn } from '../support/consul-agent';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { DockerProxy } from '../support/docker-proxy';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { makeTestPki, TestPki } from '../support/pki';
import { waitFor } from '../support/wait';

/**
 * Security properties against real dockerd, real etcd processes (TLS with client certificates,
 * user/password authentication, a least-privilege role) and the Consul agent stand-in: what the
 * daemon says when it is refused, that secrets never reach its output, and that it only reads from Docker.
 */

const exec = promisify(execFile);
const RUN = `sec${process.pid}`;
const HOST = `sec-${process.pid}`;
const IP = '10.9.8.6';
const ROLE_SCRIPT = join(__dirname, '../../../scripts/etcd-role.sh');
/** The host-name claims: every daemon writes its own and counts the fleet's (docs/fleet.md). */
const CLAIMS = '/_registrator/hosts/';

const containers = new TestContainers(`security-${process.pid}`);
const daemons: DaemonProcess[] = [];

function daemon(args: string[], env: NodeJS.ProcessEnv): DaemonProcess {
  const d = new DaemonProcess(args, { EC_REGISTRATOR_HOST: HOST, ...env });
  daemons.push(d);
  return d;
}

function run(name: string, args: string[]): Promise<string> {
  return containers.run(['--name', `${name}-${RUN}`, ...args, TEST_IMAGE, 'sleep', '1000']);
}

/** The client-side TLS settings of a PKI, as the daemon takes them. */
function etcdTlsEnv(etcd: EtcdServer, certs: TestPki): NodeJS.ProcessEnv {
  return {
    EC_REGISTRATOR_ETCD_HOSTS: etcd.url,
    EC_REGISTRATOR_ETCD_CA: certs.ca,
    EC_REGISTRATOR_ETCD_CERT: certs.clientCert,
    EC_REGISTRATOR_ETCD_KEY: certs.clientKey,
  };
}

/** Runs scripts/etcd-role.sh as etcd's root user; resolves with its stdout. */
async function roleScript(etcd: EtcdServer, rootPassword: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const tls = etcd.options.tls;
  const tlsEnv = tls ? { ETCDCTL_CACERT: tls.ca, ETCDCTL_CERT: tls.clientCert, ETCDCTL_KEY: tls.clientKey } : {};
  const { stdout } = await exec('bash', [ROLE_SCRIPT, ...args], {
    env: { PATH: process.env.PATH, ETCDCTL_ENDPOINTS: etcd.url, ETCDCTL_USER: 'root', ETCDCTL_PASSWORD: rootPassword, ...tlsEnv, ...env },
  });
  return stdout;
}

/** The `err` of the log lines in which the daemon reports that a writer could not read its store. */
function loadErrors(d: DaemonProcess): string[] {
  return d.lines
    .filter((l) => l.message === 'could not read what this host holds; writer skipped until the next attempt')
    .map((l) => String(l.err));
}

/** Appended while a member's circuit breaker holds calls back after failures (the cause stays in front). */
const PAUSED = ' (member not called again for a moment)';

/** Everything the daemon printed, both streams. */
function output(d: DaemonProcess): string {
  return `${d.lines.map((l) => JSON.stringify(l)).join('\n')}\n${d.stderr.join('')}`;
}

/** Waits until the mirror holds exactly the keys docs/mirror.md, "Key layout" gives for this container. */
async function assertMirrored(etcd: EtcdServer, id: string): Promise<void> {
  const expected = sorted(expectedMirror(await containers.inspect(id), HOST));
  await waitFor('mirror entry', async () => JSON.stringify(sorted(await heldFor(etcd, id))) === JSON.stringify(expected)).catch(
    async (err) => {
      assert.deepEqual(sorted(await heldFor(etcd, id)), expected, String(err));
    },
  );
}

/** A refused daemon keeps retrying: it is still running, and nothing it printed is a stack trace. */
async function assertRetryingCleanly(d: DaemonProcess): Promise<void> {
  // What it printed is under test: wait for the lines themselves, not for the failure counter ahead of them.
  await d.waitForLog('reconcile failed; will retry', 2, 30_000);
  const state = await Promise.race([d.exited.then(() => 'exited'), new Promise((resolve) => setImmediate(() => resolve('running')))]);
  assert.equal(state, 'running');
  // A stack would show as `\n    at fn (file:line)`, escaped inside a JSON line or raw on stderr.
  assert.doesNotMatch(output(d), /(\n|\\n)\s+at \S/, 'no stack trace');
}

/** A daemon with these settings mirrors the container exactly, names its etcd authentication, and SIGTERM deletes the entry. */
async function assertMirrorsAs(etcd: EtcdServer, env: NodeJS.ProcessEnv, id: string, etcdAuth: string): Promise<void> {
  const d = daemon([], env);
  await d.waitForReconciliations(1);
  await assertMirrored(etcd, id);
  assert.equal(d.lines.find((l) => l.message === 'starting')?.etcdAuth, etcdAuth);
  d.signal('SIGTERM');
  assert.equal(await d.exited, 0);
  assert.deepEqual(await heldFor(etcd, id), {});
}

/**
 * A daemon with these settings is refused by etcd: every attempt (two at least) reports exactly
 * `expected` (with PAUSED appended while the member's breaker is open), it keeps running, and SIGINT exits 0.
 */
async function assertRefusedWith(env: NodeJS.ProcessEnv, expected: string): Promise<void> {
  const d = daemon([], env);
  await assertRetryingCleanly(d);
  const errors = loadErrors(d);
  assert.ok(errors.length >= 2, JSON.stringify(errors));
  for (const err of errors) assert.ok(err === expected || err === `${expected}${PAUSED}`, `${err}\nexpected: ${expected}`);
  d.signal('SIGINT');
  assert.equal(await d.exited, 0);
}

/** Two throwaway CAs, each with a server and a client certificate: `pki` is etcd's, `otherPki` a stranger's (or Consul's). */
let pki: TestPki;
let otherPki: TestPki;

before(async () => {
  await ensureTestImage();
  [pki, otherPki] = await Promise.all([makeTestPki('etcd'), makeTestPki('other')]);
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.kill()));
  await containers.removeAll();
});
after(() => {
  for (const dir of [pki.dir, otherPki.dir]) rmSync(dir, { recursive: true, force: true });
});

describe('bad security settings exit 2 with one line, before anything runs', () => {
  const cases: Array<[string, string[], NodeJS.ProcessEnv, string]> = [
    [
      'a missing client certificate file',
      [],
      { EC_REGISTRATOR_ETCD_CERT: '/nonexistent/client.pem', EC_REGISTRATOR_ETCD_KEY: '/etc/hostname' },
      'registrator: invalid etcd.cert (-etcd-cert / EC_REGISTRATOR_ETCD_CERT): file is missing or unreadable: value was "/nonexistent/client.pem"\n',
    ],
    [
      'an etcd endpoint with user:password@',
      [],
      { EC_REGISTRATOR_ETCD_HOSTS: 'https://reg:s3cret-host-pw@127.0.0.1:2379' },
      'registrator: etcd.hosts (-etcd-hosts / EC_REGISTRATOR_ETCD_HOSTS): an endpoint carries user:password@; use EC_REGISTRATOR_ETCD_USER and EC_REGISTRATOR_ETCD_PASSWORD\n',
    ],
    [
      'a registry URI with user:password@',
      ['--no-mirror', 'consul://admin:s3cret-uri-pw@127.0.0.1:8500'],
      {},
      'registrator: registry URI "consul://admin:[redacted]@127.0.0.1:8500" carries user:password@; credentials are set by environment (see docs/security.md)\n',
    ],
  ];
  for (const [what, args, env, line] of cases) {
    it(what, async () => {
      const d = daemon(args, env);
      assert.equal(await d.exited, 2);
      assert.equal(d.stderr.join(''), line);
      assert.deepEqual(d.lines, []);
    });
  }
});

describe('etcd over TLS with client certificates', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await EtcdServer.start({ tls: pki });
  });
  after(async () => {
    await etcd.stop();
  });

  it('writes the mirror through https:// with EC_REGISTRATOR_ETCD_CA, _CERT and _KEY; SIGTERM deletes it', async () => {
    const id = await run('tls', ['--label', 'role=web', '-p', '127.0.0.1::80']);
    await assertMirrorsAs(etcd, etcdTlsEnv(etcd, pki), id, 'client-cert');
  });

  it('a server certificate from another CA: each attempt logs TLS verification failed with the endpoint, and retries', async () => {
    await assertRefusedWith(
      { ...etcdTlsEnv(etcd, pki), EC_REGISTRATOR_ETCD_CA: otherPki.ca },
      `etcd ${etcd.url}: TLS certificate verification failed: the server certificate is not trusted with EC_REGISTRATOR_ETCD_CA (unable to verify the first certificate)`,
    );
  });

  it('a client certificate from another CA: etcd refuses the handshake, and the line says so', async () => {
    await assertRefusedWith(
      { ...etcdTlsEnv(etcd, pki), EC_REGISTRATOR_ETCD_CERT: otherPki.clientCert, EC_REGISTRATOR_ETCD_KEY: otherPki.clientKey },
      `etcd ${etcd.url}: TLS handshake refused by etcd: it did not accept the client certificate (EC_REGISTRATOR_ETCD_CERT / EC_REGISTRATOR_ETCD_KEY) (TLS alert bad certificate)`,
    );
  });
});

describe('etcd with user and password', () => {
  const ROOT_PW = `root-pw-${RUN}`;
  const REG_PW = `reg-pw-${RUN}`;
  let etcd: EtcdServer;
  before(async () => {
    etcd = await EtcdServer.start();
    await etcd.enableAuth(ROOT_PW);
    await roleScript(etcd, ROOT_PW, ['--role', 'mirror', '--user', 'reg', '/registry/', `/_registrator/owners/${HOST}/`, CLAIMS], {
      EC_REGISTRATOR_ETCD_PASSWORD: REG_PW,
    });
  });
  after(async () => {
    await etcd.stop();
  });

  it('writes the mirror as EC_REGISTRATOR_ETCD_USER with EC_REGISTRATOR_ETCD_PASSWORD', async () => {
    const id = await run('auth', ['--label', 'role=db']);
    await assertMirrorsAs(
      etcd,
      { EC_REGISTRATOR_ETCD_HOSTS: etcd.url, EC_REGISTRATOR_ETCD_USER: 'reg', EC_REGISTRATOR_ETCD_PASSWORD: REG_PW },
      id,
      'user',
    );
  });

  it('a wrong password: each attempt logs authentication failed with the endpoint and user, and retries', async () => {
    await assertRefusedWith(
      { EC_REGISTRATOR_ETCD_HOSTS: etcd.url, EC_REGISTRATOR_ETCD_USER: 'reg', EC_REGISTRATOR_ETCD_PASSWORD: 'not-the-password' },
      `etcd ${etcd.url}: authentication failed for user "reg": wrong user name or password (EC_REGISTRATOR_ETCD_USER / EC_REGISTRATOR_ETCD_PASSWORD)`,
    );
  });

  it('no credentials for an etcd that requires them: the line says which settings to give', async () => {
    await assertRefusedWith(
      { EC_REGISTRATOR_ETCD_HOSTS: etcd.url },
      `etcd ${etcd.url}: authentication required: set EC_REGISTRATOR_ETCD_USER and EC_REGISTRATOR_ETCD_PASSWORD`,
    );
  });
});

describe('secrets never reach the output', () => {
  const ROOT_PW = `root-pw-${RUN}`;
  const ETCD_PW = `etcd-pw-${RUN}`;
  const CONSUL_TOKEN = `consul-token-${RUN}`;
  let etcd: EtcdServer;
  let consul: ConsulAgentStandIn;
  before(async () => {
    etcd = await EtcdServer.start({ tls: pki });
    await etcd.enableAuth(ROOT_PW);
    await roleScript(etcd, ROOT_PW, ['--user', 'reg', '/registry/', `/_registrator/owners/${HOST}/`, CLAIMS], {
      EC_REGISTRATOR_ETCD_PASSWORD: ETCD_PW,
    });
    consul = await ConsulAgentStandIn.start({
      token: CONSUL_TOKEN,
      tls: { cert: readFileSync(otherPki.serverCert), key: readFileSync(otherPki.serverKey), ca: readFileSync(otherPki.ca) },
    });
  });
  after(async () => {
    await consul.stop();
    await etcd.stop();
  });

  /** Each private key's PEM text, its base64 body (joined and line by line), and every password and token. */
  function secrets(): string[] {
    const out = [ROOT_PW, ETCD_PW, CONSUL_TOKEN, 'wrong-etcd-pw', 'wrong-consul-token'];
    for (const file of [pki.clientKey, otherPki.clientKey]) {
      const pem = readFileSync(file, 'utf8');
      const body = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
      out.push(pem.trim(), body.join(''), ...body.filter((l) => l.length >= 16));
    }
    return out;
  }

  function env(password: string, token: string): NodeJS.ProcessEnv {
    return {
      ...etcdTlsEnv(etcd, pki),
      EC_REGISTRATOR_ETCD_USER: 'reg',
      EC_REGISTRATOR_ETCD_PASSWORD: password,
      EC_REGISTRATOR_LOG_LEVEL: 'debug',
      CONSUL_HTTP_TOKEN: token,
      CONSUL_CACERT: otherPki.ca,
      CONSUL_CLIENT_CERT: otherPki.clientCert,
      CONSUL_CLIENT_KEY: otherPki.clientKey,
    };
  }

  it('at debug level, through start, containers, SIGHUP, refusals and SIGTERM: no password, token or key material', async () => {
    const uri = `consul-tls://${consul.address}`;
    const good = daemon(['-ip', IP, uri], env(ETCD_PW, CONSUL_TOKEN));
    await good.waitForReconciliations(1);
    const id = await run('secret', ['-e', 'SERVICE_NAME=secret', '-p', '127.0.0.1::80']);
    const serviceId = `${HOST}:secret-${RUN}:80`;
    await waitFor('registered in Consul', () => consul.services.has(serviceId));
    await assertMirrored(etcd, id);
    await good.reconcileOn('SIGHUP', 30_000);
    await dockerCli(['stop', '-t', '0', id]);
    await waitFor('deregistered', async () => !consul.services.has(serviceId) && Object.keys(await heldFor(etcd, id)).length === 0);
    good.signal('SIGTERM');
    assert.equal(await good.exited, 0);

    // Refused by both stores: the failures are reported, the credentials are not.
    const refused = daemon(['-ip', IP, uri], env('wrong-etcd-pw', 'wrong-consul-token'));
    // The errors it reports are under test: wait for the lines themselves, not for the failure counter ahead of them.
    await refused.waitForLog('reconcile failed; will retry', 2, 30_000);
    assert.ok(
      loadErrors(refused).some((e) => e.includes(`etcd ${etcd.url}: authentication failed for user "reg"`)),
      JSON.stringify(loadErrors(refused)),
    );
    assert.ok(consul.requests.some((r) => r.status === 403 && r.headers['x-consul-token'] === 'wrong-consul-token'));
    refused.signal('SIGTERM');
    assert.equal(await refused.exited, 1);

    assert.ok(
      good.lines.some((l) => l.level === 'debug'),
      'debug lines were written',
    );
    for (const d of [good, refused]) {
      const text = output(d);
      for (const secret of secrets()) assert.ok(!text.includes(secret), `output contains a secret (${secret.slice(0, 12)}...)`);
    }
  });
});

describe('Docker is only read', () => {
  let etcd: EtcdServer;
  let proxy: DockerProxy;
  before(async () => {
    etcd = await EtcdServer.start();
    proxy = await DockerProxy.start();
  });
  after(async () => {
    await proxy.stop();
    await etcd.stop();
  });

  it('every request through start, container start and stop, SIGHUP, SIGUSR2 and SIGTERM is a GET', async () => {
    const d = daemon([], { EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint, EC_REGISTRATOR_DOCKER_SOCKET: proxy.socketPath });
    await d.waitForReconciliations(1);
    const id = await run('ro', ['--label', 'role=ro']);
    await assertMirrored(etcd, id);
    await dockerCli(['stop', '-t', '0', id]);
    await waitFor('removed from the mirror', async () => Object.keys(await heldFor(etcd, id)).length === 0);
    for (const signal of ['SIGHUP', 'SIGUSR2'] as const) await d.reconcileOn(signal, 30_000);
    d.signal('SIGTERM');
    assert.equal(await d.exited, 0);

    const methods = [...new Set(proxy.requests.map((r) => r.method))];
    assert.deepEqual(methods, ['GET'], JSON.stringify(proxy.requests.filter((r) => r.method !== 'GET')));
    // Which endpoints, with the API version, query and container IDs taken out (docs/security.md lists them).
    const endpoints = [
      ...new Set(
        proxy.requests.map((r) =>
          r.target
            .replace(/^\/v[\d.]+\//, '/')
            .replace(/\?.*$/, '')
            .replace(/\/[0-9a-f]{64}\//, '/<id>/'),
        ),
      ),
    ].sort();
    assert.deepEqual(endpoints, ['/containers/<id>/json', '/containers/json', '/events', '/info']);
    assert.ok(
      proxy.requests.some((r) => r.target.includes(`/containers/${id}/json`)),
      'the container was inspected through the proxy',
    );
  });
});

describe('least-privilege etcd role (scripts/etcd-role.sh)', () => {
  const ROOT_PW = `root-pw-${RUN}`;
  const REG_PW = `reg-pw-${RUN}`;
  const OWNERS = `/_registrator/owners/${HOST}/`;
  let etcd: EtcdServer;
  before(async () => {
    etcd = await EtcdServer.start();
    await etcd.enableAuth(ROOT_PW);
  });
  after(async () => {
    await etcd.stop();
  });

  it('the role allows the mirror, hamesh and etcd writers with leases, SIGUSR2 and SIGTERM, and nothing outside its prefixes', async () => {
    const created = await roleScript(
      etcd,
      ROOT_PW,
      ['--role', 'registrator', '--user', 'reg', '/registry/', '/mesh/', '/services/', OWNERS, CLAIMS],
      { EC_REGISTRATOR_ETCD_PASSWORD: REG_PW },
    );
    assert.equal(
      created,
      [
        'role registrator created',
        'role registrator: readwrite on prefix /registry/',
        'role registrator: readwrite on prefix /mesh/',
        'role registrator: readwrite on prefix /services/',
        `role registrator: readwrite on prefix ${OWNERS}`,
        `role registrator: readwrite on prefix ${CLAIMS}`,
        'user reg created',
        'user reg: granted role registrator',
        '',
      ].join('\n'),
    );
    const reg = { name: 'reg', password: REG_PW };
    await assert.rejects(etcd.etcdctl(['put', '/other/x', '1'], reg), /etcdserver: permission denied/);
    await assert.rejects(etcd.etcdctl(['put', '/_registrator/owners/another-host/x', '1'], reg), /etcdserver: permission denied/);

    const id = await run('role', ['-e', 'SERVICE_NAME=rolesvc', '-p', '127.0.0.1::80']);
    const port = (await containers.inspect(id)).NetworkSettings.Ports['80/tcp'][0].HostPort;
    const serviceId = `${HOST}:role-${RUN}:80`;
    // Published on 127.0.0.1: the binding's own address is the service address (-ip only replaces 0.0.0.0).
    const ours = {
      [`/mesh/rolesvc/${serviceId}/address`]: '127.0.0.1',
      [`/mesh/rolesvc/${serviceId}/mode`]: 'tcp',
      [`/mesh/rolesvc/${serviceId}/port`]: port,
      [`/services/rolesvc/${serviceId}`]: `127.0.0.1:${port}`,
    };
    const registrations = async () => {
      const tree = { ...(await etcd.tree('/mesh/')), ...(await etcd.tree('/services/')) };
      return sorted(Object.fromEntries(Object.entries(tree).filter(([k]) => k.includes(serviceId))));
    };
    const d = daemon(['-ip', IP, '-ttl', '10', '-ttl-refresh', '2', 'hamesh:///mesh', 'etcd:///services'], {
      EC_REGISTRATOR_ETCD_HOSTS: etcd.url,
      EC_REGISTRATOR_ETCD_USER: 'reg',
      EC_REGISTRATOR_ETCD_PASSWORD: REG_PW,
    });
    await d.waitForReconciliations(1);
    await assertMirrored(etcd, id);
    const assertRegistered = (what: string) =>
      waitFor(what, async () => JSON.stringify(await registrations()) === JSON.stringify(sorted(ours))).catch(async (err) => {
        assert.deepEqual(await registrations(), sorted(ours), `${err}\n${output(d)}`);
      });
    await assertRegistered('registered');
    const ownRecords = async () =>
      Object.keys(await etcd.tree(OWNERS))
        .filter((k) => k.endsWith(encodeURIComponent(serviceId)))
        .sort();
    assert.deepEqual(await ownRecords(), [
      `${OWNERS}etcd/services/${id}/${encodeURIComponent(serviceId)}`,
      `${OWNERS}hamesh/mesh/${id}/${encodeURIComponent(serviceId)}`,
    ]);
    // Keys held by the lease, which the user may grant and keep alive.
    assert.equal((await etcd.leaseOf(`/services/rolesvc/${serviceId}`))?.grantedTtl, 10);

    // SIGUSR2 empties the mirror and hamesh prefixes (another host's keys too) and writes ours again.
    const otherHost = { '/registry/hosts/other-host/x': 'a'.repeat(64), '/mesh/other/other-host:x:80/address': '10.0.0.9' };
    for (const [k, v] of Object.entries(otherHost)) await etcd.client.put(k).value(v);
    d.signal('SIGUSR2');
    // A purge that failed is reported after the refill's reconciliation, so the counter could not tell: the signal's own line does.
    await d.waitForLog('signal handled', 1, 30_000, (l) => l.signal === 'SIGUSR2');
    assert.equal(d.count('signal work failed'), 0);
    await assertMirrored(etcd, id);
    await assertRegistered('written again');
    for (const key of Object.keys(otherHost)) assert.equal(await etcd.client.get(key).string(), null, key);

    d.signal('SIGTERM');
    assert.equal(await d.exited, 0);
    assert.deepEqual(await heldFor(etcd, id), {});
    assert.deepEqual(await registrations(), {});
    assert.deepEqual(await etcd.tree(OWNERS), {});
    assert.doesNotMatch(output(d), /permission denied/);
  });

  it('run again with fewer prefixes, the role loses the others', async () => {
    const out = await roleScript(etcd, ROOT_PW, ['--role', 'registrator', '--user', 'reg', '/registry/']);
    assert.equal(
      out,
      [
        'role registrator: revoked prefix /_registrator/hosts/',
        'role registrator: revoked prefix /_registrator/owners/' + HOST + '/',
        'role registrator: revoked prefix /mesh/',
        'role registrator: revoked prefix /services/',
        'role registrator: readwrite on prefix /registry/',
        '',
      ].join('\n'),
    );
    await assert.rejects(etcd.etcdctl(['put', '/mesh/x', '1'], { name: 'reg', password: REG_PW }), /etcdserver: permission denied/);
    await etcd.etcdctl(['put', '/registry/x', '1'], { name: 'reg', password: REG_PW });
  });
});
