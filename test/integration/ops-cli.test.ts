import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { after, before, describe, it } from 'node:test';
import type { DiffReport } from '../../src/ops/diff';
import type { LsReport } from '../../src/ops/ls';
import { runCli } from '../support/cli';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { PrivateDockerd } from '../support/dockerd';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, sorted } from '../support/mirror';
import { anotherHostsService } from '../support/service-record';

const PID = process.pid;
const A = `opsa-${PID}`;
const B = `opsb-${PID}`;
const URIS = ['hamesh:///mesh', 'etcd:///services'];
const B_ID = 'b'.repeat(64);

/** Host B's data, as its own registrator would have written it into the same etcd. */
function hostBData(): Record<string, string> {
  const service = anotherHostsService(`${B}:elsewhere:5432`, { containerId: B_ID, containerName: 'elsewhere', hostname: 'elsewhere' });
  const c = `/registry/containers/${B_ID}/`;
  const owner = `${B_ID}/${encodeURIComponent(service.id)}`;
  return {
    [`${c}id`]: B_ID,
    [`${c}name`]: 'elsewhere',
    [`${c}host`]: B,
    [`${c}state`]: 'running',
    [`${c}image`]: 'postgres:16',
    [`${c}created`]: '2026-11-21T10:00:00Z',
    [`${c}network/ip`]: '172.17.0.9',
    [`${c}labels/role`]: 'db',
    [`/registry/hosts/${B}/elsewhere`]: B_ID,
    [`/registry/labels/role/${B_ID}`]: 'db',
    [`/mesh/db/${service.id}/address`]: '10.0.0.2',
    [`/mesh/db/${service.id}/port`]: '5432',
    [`/mesh/db/${service.id}/mode`]: 'tcp',
    [`/_registrator/owners/${B}/hamesh/mesh/${owner}`]: JSON.stringify(service),
    [`/services/db/${service.id}`]: '10.0.0.2:5432',
    [`/_registrator/owners/${B}/etcd/services/${owner}`]: JSON.stringify(service),
  };
}

/** What `ls` should say of a running container with one port published on 127.0.0.1. */
function listed(c: Docker.ContainerInspectInfo, port: string) {
  return {
    id: c.Id,
    name: c.Name.slice(1),
    image: TEST_IMAGE,
    state: 'running',
    created: c.Created,
    ip: (c.NetworkSettings as { IPAddress?: string }).IPAddress,
    labels: sorted(c.Config.Labels),
    ports: [{ port, proto: 'tcp', extPort: c.NetworkSettings.Ports[`${port}/tcp`][0].HostPort, extIp: '127.0.0.1' }],
    keys: sorted(expectedMirror(c, A)),
  };
}

/** What `ls` should say of a service of such a container. */
function listedService(c: Docker.ContainerInspectInfo, name: string, port: string) {
  const containerName = c.Name.slice(1);
  return {
    id: `${A}:${containerName}:${port}`,
    name,
    ip: '127.0.0.1',
    port: Number(c.NetworkSettings.Ports[`${port}/tcp`][0].HostPort),
    tags: [],
    containerId: c.Id,
    containerName,
    intact: true,
    takenOver: false,
  };
}

describe('registrator ls and diff against real dockerd and etcd', () => {
  // A private engine: diff looks at every container of the engine, and other test files run theirs on the shared one.
  const engine = new PrivateDockerd(`srops${PID}`);
  const containers = new TestContainers(`ops-${PID}`, engine.env);
  let etcd: EtcdServer;
  let web: Docker.ContainerInspectInfo;
  let db: Docker.ContainerInspectInfo;
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
    EC_REGISTRATOR_DOCKER_SOCKET: engine.socket,
    EC_REGISTRATOR_HOST: A,
    EC_REGISTRATOR_LOG_FORMAT: 'json',
    ...extra,
  });
  const revision = async (): Promise<string> => (await etcd.client.kv.range({ key: Buffer.from('/') })).header.revision;

  /** Runs the daemon for host A until its first reconciliation, then stops it with SIGINT (data kept). */
  async function reconcileOnce(extra: string[] = []): Promise<void> {
    const daemon = new DaemonProcess([...extra, ...URIS], env());
    try {
      await daemon.waitForReconciliations(1);
      daemon.signal('SIGINT');
      assert.equal(await daemon.exited, 0);
    } finally {
      await daemon.kill();
    }
  }

  before(async () => {
    await engine.start();
    await ensureTestImage(engine.env);
    etcd = await EtcdServer.start();
    const webId = await containers.run([
      '--name',
      `web-${PID}`,
      '--label',
      'role=web',
      '-e',
      'SERVICE_NAME=web',
      '-p',
      '127.0.0.1::80',
      TEST_IMAGE,
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    const dbId = await containers.run([
      '--name',
      `db-${PID}`,
      '-e',
      'SERVICE_NAME=db',
      '-p',
      '127.0.0.1::5432',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    [web, db] = [await containers.inspect(webId), await containers.inspect(dbId)];
    for (const [key, value] of Object.entries(hostBData())) await etcd.client.put(key).value(value);
    await reconcileOnce();
  });
  after(async () => {
    await engine.destroy();
    await etcd?.stop();
  });

  it("ls --host lists exactly that host's mirror entries and services, writes nothing and needs no Docker", async () => {
    const before = await revision();
    // No Docker at that socket: ls never asks it.
    const a = await runCli(
      ['ls', '--host', A, '--json', ...URIS],
      env({ EC_REGISTRATOR_HOST: 'someone-else', EC_REGISTRATOR_DOCKER_SOCKET: '/nonexistent/docker.sock' }),
    );
    assert.equal(a.code, 0, a.stderr);
    const services = [listedService(db, 'db', '5432'), listedService(web, 'web', '80')];
    assert.deepEqual(JSON.parse(a.stdout) as LsReport, {
      host: A,
      // Its daemon stopped with SIGINT, which gives the claim up.
      claim: null,
      mirror: { prefix: '/registry/', containers: [listed(db, '5432'), listed(web, '80')] },
      registries: [
        { registry: 'hamesh:///mesh', covered: true, services },
        { registry: 'etcd:///services', covered: true, services },
      ],
    });

    const b = await runCli(['ls', '--host', B, '--json', ...URIS, 'consul://127.0.0.1:1'], env());
    assert.equal(b.code, 0, b.stderr);
    const data = hostBData();
    assert.deepEqual(JSON.parse(b.stdout) as LsReport, {
      host: B,
      claim: null,
      mirror: {
        prefix: '/registry/',
        containers: [
          {
            id: B_ID,
            name: 'elsewhere',
            image: 'postgres:16',
            state: 'running',
            created: '2026-11-21T10:00:00Z',
            ip: '172.17.0.9',
            labels: { role: 'db' },
            ports: [],
            keys: sorted(Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith('/registry/')))),
          },
        ],
      },
      registries: [
        ...URIS.map((registry) => ({
          registry,
          covered: true,
          services: [
            {
              id: `${B}:elsewhere:5432`,
              name: 'db',
              ip: '10.0.0.2',
              port: 5432,
              tags: [],
              containerId: B_ID,
              containerName: 'elsewhere',
              intact: true,
              takenOver: false,
            },
          ],
        })),
        {
          registry: 'consul://127.0.0.1:1',
          covered: false,
          reason: 'not covered: ls and diff read only the etcd-based registries (hamesh, etcd, skydns2)',
        },
      ],
    });

    // The configured host by default; tables without --json.
    const text = await runCli(['ls', ...URIS], env());
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`^host ${A}\nclaim: none \\(no live daemon holds this host name\\)\nmirror /registry/: 2 containers\n`),
    );
    assert.match(text.stdout, new RegExp(`\n  ${web.Id.slice(0, 12)}  web-${PID}  +${TEST_IMAGE}  running  `));
    assert.match(text.stdout, /\nhamesh:\/\/\/mesh: 2 services\n/);
    assert.equal(await revision(), before, 'ls wrote to etcd');
  });

  it('diff lists exactly what changed while the daemon was stopped, exits 1, writes nothing; after a reconciliation it exits 0', async () => {
    const dbKeys = sorted(expectedMirror(db, A));
    const dbService = `${A}:db-${PID}:5432`;
    const webService = `${A}:web-${PID}:80`;
    const dbRecords = {
      hamesh: `/_registrator/owners/${A}/hamesh/mesh/${db.Id}/${encodeURIComponent(dbService)}`,
      etcd: `/_registrator/owners/${A}/etcd/services/${db.Id}/${encodeURIComponent(dbService)}`,
    };
    const held = await etcd.tree('/');
    // Meanwhile: a new container, one stopped, and two keys deleted by hand.
    const fresh = await containers.inspect(
      await containers.run([
        '--name',
        `new-${PID}`,
        '-e',
        'SERVICE_NAME=new',
        '-p',
        '127.0.0.1::80',
        TEST_IMAGE,
        'httpd',
        '-f',
        '-p',
        '80',
      ]),
    );
    await dockerCli(['stop', '-t', '1', db.Id], engine.env);
    await etcd.client.delete().key(`/registry/containers/${web.Id}/image`);
    await etcd.client.delete().key(`/mesh/web/${webService}/mode`);
    const freshService = `${A}:new-${PID}:80`;
    const freshPort = fresh.NetworkSettings.Ports['80/tcp'][0].HostPort;
    const freshRecords = {
      hamesh: `/_registrator/owners/${A}/hamesh/mesh/${fresh.Id}/${encodeURIComponent(freshService)}`,
      etcd: `/_registrator/owners/${A}/etcd/services/${fresh.Id}/${encodeURIComponent(freshService)}`,
    };

    const before = await revision();
    const result = await runCli(['diff', '--json', ...URIS], env());
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as DiffReport;
    const puts = (entries: Record<string, string>) => Object.entries(entries).map(([key, value]) => ({ key, value, previous: null }));
    const deletes = (keys: string[]) => keys.sort().map((key) => ({ key, previous: held[key] }));
    // Ownership records hold the service as registered; their values are checked against what the daemon writes below.
    const withRecords = (list: Array<{ key: string; value: string; previous: null }>, record: string) =>
      [
        ...list,
        {
          key: record,
          value: report.writers.flatMap((w) => (w.covered ? w.put : [])).find((p) => p.key === record)?.value ?? 'missing',
          previous: null,
        },
      ].sort((x, y) => (x.key < y.key ? -1 : 1));
    const dbGone = { id: dbService, name: 'db', containerId: db.Id, change: 'deregister' };
    const freshNew = { id: freshService, name: 'new', containerId: fresh.Id, change: 'register' };
    assert.deepEqual(report, {
      host: A,
      writers: [
        {
          writer: 'mirror',
          covered: true,
          put: puts(sorted({ ...expectedMirror(fresh, A), [`/registry/containers/${web.Id}/image`]: TEST_IMAGE })),
          delete: deletes(Object.keys(dbKeys)),
          warnings: [],
        },
        {
          writer: 'hamesh:///mesh',
          covered: true,
          services: [dbGone, freshNew, { id: webService, name: 'web', containerId: web.Id, change: 'rewrite' }],
          put: withRecords(
            puts({
              [`/mesh/new/${freshService}/address`]: '127.0.0.1',
              [`/mesh/new/${freshService}/mode`]: 'tcp',
              [`/mesh/new/${freshService}/port`]: freshPort,
              [`/mesh/web/${webService}/mode`]: 'tcp',
            }),
            freshRecords.hamesh,
          ),
          delete: deletes([dbRecords.hamesh, ...['address', 'mode', 'port'].map((k) => `/mesh/db/${dbService}/${k}`)]),
          warnings: [],
        },
        {
          writer: 'etcd:///services',
          covered: true,
          services: [dbGone, freshNew],
          put: withRecords(puts({ [`/services/new/${freshService}`]: `127.0.0.1:${freshPort}` }), freshRecords.etcd),
          delete: deletes([dbRecords.etcd, `/services/db/${dbService}`]),
          warnings: [],
        },
      ],
      changes: report.writers.reduce((n, w) => n + (w.covered ? w.put.length + w.delete.length : 0), 0),
    });
    for (const record of Object.values(freshRecords)) {
      const value = report.writers.flatMap((w) => (w.covered ? w.put : [])).find((p) => p.key === record)!.value;
      assert.deepEqual((({ id, name, ip, port, origin }) => ({ id, name, ip, port, containerId: origin.containerId }))(JSON.parse(value)), {
        id: freshService,
        name: 'new',
        ip: '127.0.0.1',
        port: Number(freshPort),
        containerId: fresh.Id,
      });
    }
    assert.equal(await revision(), before, 'diff wrote to etcd');

    // The daemon then writes exactly what diff said, and nothing is left to change.
    await reconcileOnce();
    const now = await etcd.tree('/');
    for (const writer of report.writers) {
      if (!writer.covered) continue;
      for (const p of writer.put) assert.equal(now[p.key], p.value, p.key);
      for (const d of writer.delete) assert.equal(now[d.key], undefined, d.key);
    }
    const after = await revision();
    const again = await runCli(['diff', '--json', ...URIS], env());
    assert.equal(again.code, 0, again.stdout);
    assert.deepEqual(
      (JSON.parse(again.stdout) as DiffReport).writers.map((w) => (w.covered ? [w.writer, w.put, w.delete, w.services ?? []] : w.writer)),
      [
        ['mirror', [], [], []],
        ['hamesh:///mesh', [], [], []],
        ['etcd:///services', [], [], []],
      ],
    );
    const text = await runCli(['diff', ...URIS], env());
    assert.equal(text.code, 0);
    assert.equal(
      text.stdout,
      `mirror: nothing to change\nhamesh:///mesh: nothing to change\netcd:///services: nothing to change\nhost ${A}: nothing to change\n`,
    );
    assert.equal(await revision(), after, 'diff wrote to etcd');
  });

  it("diff -cleanup also shows the dangling services -cleanup would remove (this host's only)", async () => {
    const dangling = {
      [`/services/web/${A}:gone:80`]: '10.0.0.1:8080',
      [`/mesh/web/${A}:gone:80/address`]: '10.0.0.1',
      [`/mesh/web/${A}:gone:80/port`]: '8080',
    };
    for (const [key, value] of Object.entries({ ...dangling, [`/services/web/${B}:gone:80`]: '10.0.0.2:8080' }))
      await etcd.client.put(key).value(value);
    const before = await revision();
    assert.equal((await runCli(['diff', '--json', ...URIS], env())).code, 0, 'without -cleanup they are left alone');
    const result = await runCli(['diff', '--json', '-cleanup', ...URIS], env());
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as DiffReport;
    assert.deepEqual(
      report.writers.map((w) => (w.covered ? [w.writer, w.put, w.delete] : w.writer)),
      [
        ['mirror', [], []],
        [
          'hamesh:///mesh',
          [],
          ['address', 'port'].map((k) => ({ key: `/mesh/web/${A}:gone:80/${k}`, previous: dangling[`/mesh/web/${A}:gone:80/${k}`] })),
        ],
        ['etcd:///services', [], [{ key: `/services/web/${A}:gone:80`, previous: '10.0.0.1:8080' }]],
      ],
    );
    assert.equal(await revision(), before, 'diff wrote to etcd');

    await reconcileOnce(['-cleanup']);
    const now = await etcd.tree('/');
    for (const key of Object.keys(dangling)) assert.equal(now[key], undefined, key);
    assert.equal(now[`/services/web/${B}:gone:80`], '10.0.0.2:8080');
    assert.equal((await runCli(['diff', '--json', '-cleanup', ...URIS], env())).code, 0);
  });

  it('a bad flag exits 2 with one line naming it; etcd or Docker that cannot be read is one line too', async () => {
    for (const command of ['ls', 'diff']) {
      const result = await runCli([command, '--bogus', ...URIS], env());
      assert.deepEqual(result, { code: 2, stdout: '', stderr: `registrator ${command}: unknown option --bogus (see --help)\n` });
    }
    // Trouble is one line too: ls exits 1, diff 2 (as diff(1)).
    const noEtcd = await runCli(['ls', ...URIS], env({ EC_REGISTRATOR_ETCD_HOSTS: '127.0.0.1:1' }));
    assert.equal(noEtcd.code, 1);
    assert.match(noEtcd.stderr, /^registrator ls: cannot read etcd: [^\n]*\n$/);
    // (-log-level error: no warning that the test's host name does not resolve.)
    const noDocker = await runCli(
      ['diff', '-log-level', 'error', ...URIS],
      env({ EC_REGISTRATOR_DOCKER_SOCKET: '/nonexistent/docker.sock' }),
    );
    assert.deepEqual(noDocker, {
      code: 2,
      stdout: '',
      stderr: 'registrator diff: cannot read Docker: connect ENOENT /nonexistent/docker.sock\n',
    });
    const help = await runCli(['diff', '--help'], env());
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: registrator diff \[--json\] \[options\] \[registry-uri \.\.\.\]\n/);
  });
});
