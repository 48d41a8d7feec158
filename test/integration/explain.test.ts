import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExplainReport } from '../../src/ops/explain';
import { runCli } from '../support/cli';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';

const PID = process.pid;
const HOST = `explain-${PID}`;

describe('registrator explain against real dockerd and etcd', () => {
  const containers = new TestContainers(`explain-${PID}`);
  let etcd: EtcdServer;
  const env = (): NodeJS.ProcessEnv => ({
    EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
    EC_REGISTRATOR_HOST: HOST,
    EC_REGISTRATOR_IP: '10.9.8.7',
  });
  const name = (n: string) => `${n}-${PID}`;
  async function explain(container: string, ...args: string[]): Promise<ExplainReport> {
    const r = await runCli(['explain', container, '--json', ...args], env());
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ExplainReport;
  }
  const leftOut = (report: ExplainReport, writer: string) => report.writers.find((w) => w.writer === writer)?.leftOut;
  const services = (report: ExplainReport, writer: string) => {
    const w = report.writers.find((x) => x.writer === writer);
    return w && 'services' in w ? w.services : undefined;
  };
  const run = (n: string, ...args: string[]) => containers.run(['--name', name(n), ...args, TEST_IMAGE, 'sleep', '1000']);

  before(async () => {
    await ensureTestImage();
    etcd = await EtcdServer.start();
    await run('ignore', '-e', 'SERVICE_80_IGNORE=1', '-p', '127.0.0.1:18080:80', '-p', '127.0.0.1:18081:81');
    await run('plain', '--expose', '90', '-p', '127.0.0.1:18082:80');
    await run('starting', '--health-cmd', 'true', '--health-interval', '1h', '-p', '127.0.0.1:18083:80');
    await run('badmode', '-e', 'SERVICE_MODE=udp-ish', '-p', '127.0.0.1:18084:80');
    await run('claim', '-e', 'SERVICE_NAME=pg', '-e', 'SERVICE_MODE=tcp', '-e', 'SERVICE_EXTERNAL_PORT=5432', '-p', '127.0.0.1:18085:80');
    await run('nonet', '-e', 'SERVICE_NETWORK=nosuch', '--expose', '80');
  });
  after(async () => {
    await containers.removeAll();
    await etcd?.stop();
  });

  it('SERVICE_<port>_IGNORE leaves that port out, the other is registered', async () => {
    const report = await explain(name('ignore'), 'etcd:///services');
    assert.deepEqual(leftOut(report, 'mirror'), []);
    assert.deepEqual(leftOut(report, 'etcd:///services'), [{ what: 'port 80/tcp', reason: 'SERVICE_80_IGNORE is "1"' }]);
    assert.deepEqual(services(report, 'etcd:///services'), [
      { id: `${HOST}:${name('ignore')}:81`, name: 'busybox', address: '127.0.0.1:18081', change: 'register' },
    ]);
  });

  it('-explicit leaves out a port without SERVICE_NAME; an exposed port that is not published is left out', async () => {
    const report = await explain(name('plain'), '-explicit', 'etcd:///services');
    assert.deepEqual(leftOut(report, 'etcd:///services'), [
      { what: 'port 90/tcp', reason: 'exposed but not published (-internal registers exposed ports)' },
      { what: 'port 80/tcp', reason: '-explicit is set and it has no SERVICE_NAME or SERVICE_<port>_NAME' },
    ]);
    assert.deepEqual(services(report, 'etcd:///services'), []);
  });

  it('-internal without an exposed port', async () => {
    const bare = await containers.run(['--name', name('bare'), TEST_IMAGE, 'sleep', '1000']);
    const report = await explain(bare.slice(0, 12), '-internal', 'etcd:///services');
    assert.equal(report.container.id, bare);
    assert.deepEqual(leftOut(report, 'etcd:///services'), [{ what: 'container', reason: '-internal is set and it exposes no port' }]);
  });

  it('health starting: no mirror entry, no service', async () => {
    const report = await explain(name('starting'), 'etcd:///services');
    assert.deepEqual(report.container, { id: report.container.id, name: name('starting'), running: true, health: 'starting' });
    assert.deepEqual(leftOut(report, 'mirror'), [{ what: 'mirror entry', reason: "the container's health is starting" }]);
    assert.deepEqual(leftOut(report, 'etcd:///services'), [
      { what: `service ${HOST}:${name('starting')}:80`, reason: "the container's health is starting" },
    ]);
  });

  it('invalid hamesh metadata', async () => {
    const report = await explain(name('badmode'), 'hamesh:///mesh');
    assert.deepEqual(leftOut(report, 'hamesh:///mesh'), [{ what: 'port 80/tcp', reason: 'unknown SERVICE_MODE "udp-ish" (http or tcp)' }]);
  });

  it('a hamesh port claimed by another service', async () => {
    const other = `/_registrator/claims/hamesh/mesh/external_port/5432/${encodeURIComponent('aaa/aaa:1')}`;
    await etcd.client.put(other).value('x');
    try {
      const report = await explain(name('claim'), 'hamesh:///mesh');
      assert.deepEqual(leftOut(report, 'hamesh:///mesh'), [
        {
          what: `service ${HOST}:${name('claim')}:80`,
          reason: 'SERVICE_EXTERNAL_PORT 5432 is claimed by service aaa/aaa:1: registered without it',
        },
      ]);
    } finally {
      await etcd.client.delete().key(other);
    }
  });

  it('a network named that the container is not on (-internal)', async () => {
    const report = await explain(name('nonet'), '-internal', 'etcd:///services');
    assert.deepEqual(leftOut(report, 'etcd:///services'), [
      {
        what: 'port 80/tcp',
        reason:
          'network "nosuch" (SERVICE_NETWORK) is not one the container has an address on (bridge); port 80/tcp is registered at the address it has without a network named',
      },
    ]);
  });

  it('the host name claimed by another daemon, in text', async () => {
    const claim = {
      host: HOST,
      engine: { id: 'OTHER:ENGINE', name: 'elsewhere' },
      hostname: 'box',
      pid: 42,
      version: '1',
      since: '2026-12-01T00:00:00Z',
    };
    await etcd.client.put(`/_registrator/hosts/${HOST}`).value(JSON.stringify(claim));
    try {
      const r = await runCli(['explain', name('ignore'), 'consul://127.0.0.1:1'], env());
      assert.equal(r.code, 0, r.stderr);
      const id = (await dockerCli(['inspect', '-f', '{{.Id}}', name('ignore')])).trim();
      const lines = r.stdout.split('\n');
      const everything = `  left out: everything: host name ${HOST} is claimed by another daemon (engine elsewhere (ID OTHER:ENGINE), daemon pid 42 on box since 2026-12-01T00:00:00Z); this daemon would write nothing`;
      assert.deepEqual(lines.slice(0, 2), [
        `container ${name('ignore')} (${id.slice(0, 12)}): running`,
        `host ${HOST}: claimed by another daemon: engine elsewhere (ID OTHER:ENGINE), daemon pid 42 on box since 2026-12-01T00:00:00Z`,
      ]);
      assert.ok(lines.includes(everything), r.stdout);
      const consul = lines.slice(lines.indexOf('consul://127.0.0.1:1:'));
      assert.deepEqual(consul, [
        'consul://127.0.0.1:1:',
        `  service ${HOST}:${name('ignore')}:81 (busybox) at 127.0.0.1:18081: would register`,
        '  (what this registry holds is not read: these are the services the daemon would register)',
        everything,
        '  left out: port 80/tcp: SERVICE_80_IGNORE is "1"',
        '',
      ]);
    } finally {
      await etcd.client.delete().key(`/_registrator/hosts/${HOST}`);
    }
  });

  it('a container that does not exist exits 1 with one line; no container named exits 2', async () => {
    const missing = await runCli(['explain', `nosuch-${PID}`], env());
    assert.deepEqual(missing, { code: 1, stdout: '', stderr: `registrator explain: no container "nosuch-${PID}" on this engine\n` });
    const usage = await runCli(['explain', '--json'], env());
    assert.deepEqual(usage, {
      code: 2,
      stdout: '',
      stderr: 'registrator explain: name the container to explain: registrator explain <container>\n',
    });
  });
});
