import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DaemonOptions, DaemonProcess } from '../support/daemon';
import { ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { PrivateDockerd } from '../support/dockerd';
import { EtcdServer } from '../support/etcd';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';

const exec = promisify(execFile);
const HOST = `http-${process.pid}`;

/** The value of one series (`name{labels}` exactly as exposed), or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

async function healthz(port: number): Promise<{ code: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { code: res.status, body: await res.json() };
}

/** Waits until /healthz answers `code` with exactly `body`. */
async function healthIs(port: number, code: number, body: unknown, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `/healthz ${code} ${JSON.stringify(body)}`,
    async () => {
      const h = await healthz(port);
      return h.code === code && JSON.stringify(h.body) === JSON.stringify(body);
    },
    timeoutMs,
    100,
  ).catch(async (err) => {
    assert.deepEqual(await healthz(port), { code, body }, String(err));
  });
}

/** A /healthz body as the daemon gives it with its claim held (or as given) and etcd's history steady. */
function body(base: Record<string, unknown>, claim: Record<string, unknown> = { state: 'held', host: HOST }): Record<string, unknown> {
  const reason = claim.reason === undefined ? {} : { reason: claim.reason };
  return { ...base, hostClaim: claim, etcdHistory: { state: 'steady', changes: 0 }, ...reason };
}

/** `local address:port` of every TCP socket process `pid` listens on. */
async function listening(pid: number): Promise<string[]> {
  const { stdout } = await exec('ss', ['-Hltnp']);
  return stdout
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3]);
}

describe('HTTP listener: /metrics and /healthz of the real daemon, real dockerd and etcd', () => {
  let etcd: EtcdServer;
  // A private engine: no other test file's containers, so every count is exact.
  const engine = new PrivateDockerd(`srhttp${process.pid}`);
  const containers = new TestContainers(`http-${process.pid}`, engine.env);
  let daemon: DaemonProcess | undefined;
  let port: number;

  const start = (args: string[], env: NodeJS.ProcessEnv = { EC_REGISTRATOR_HTTP_PORT: String(port) }, options: DaemonOptions = {}) => {
    const base = { EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint, EC_REGISTRATOR_HOST: HOST, EC_REGISTRATOR_DOCKER_SOCKET: engine.socket };
    daemon = new DaemonProcess(args, { ...base, ...env }, options);
    return daemon;
  };
  const web = () => containers.run(['-e', 'SERVICE_NAME=web', '-p', '80', TEST_IMAGE, 'httpd', '-f', '-p', '80']);

  before(async () => {
    etcd = await EtcdServer.start();
    await engine.start(true);
    await ensureTestImage(engine.env);
  });
  beforeEach(async () => {
    port = await freePorts(1);
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    await containers.removeAll();
    await etcd.client.delete().all();
  });
  after(async () => {
    await engine.destroy();
    await etcd.stop();
  });

  it('is off by default: no port listening', async () => {
    const d = start([], {}, { http: false });
    // No listener, so no state to read: the log is all this daemon says.
    await d.waitForLog('reconciled');
    assert.equal(d.count('http listening'), 0);
    assert.equal(d.lines.find((l) => l.message === 'starting')?.http, 'off');
    assert.deepEqual(await listening(d.pid), []);
  });

  it('binds 127.0.0.1 by default; counts events, writes, reconciliations, held containers and the lease exactly', async () => {
    const registry = `hamesh://127.0.0.1:${etcd.port}/mesh`;
    const d = start(['-ttl', '3', '-ttl-refresh', '1', registry]);
    await d.waitForReconciliations(1);
    assert.deepEqual(await listening(d.pid), [`127.0.0.1:${port}`]);
    assert.ok(d.lines.some((l) => l.message === 'http listening' && l.address === '127.0.0.1' && l.port === port));
    await healthIs(
      port,
      200,
      body({ status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step', 'writer.hamesh': 'in-step' } }),
    );

    let text = await scrape(port);
    const expectStart: Record<string, number | undefined> = {
      'registrator_docker_events_total{action="start"}': 0,
      'registrator_docker_events_total{action="die"}': 0,
      'registrator_docker_events_total{action="connect"}': 0,
      'registrator_writes_total{writer="writer.mirror"}': 0,
      'registrator_writes_total{writer="writer.hamesh"}': 0,
      'registrator_write_errors_total{writer="writer.mirror"}': 0,
      'registrator_containers_held{writer="writer.mirror"}': 0,
      'registrator_reconciliations_total{outcome="success"}': 1,
      'registrator_reconciliations_total{outcome="failure"}': 0,
      'registrator_reconcile_duration_seconds_count{outcome="success"}': 1,
      registrator_docker_connected: 1,
      'registrator_writer_reachable{writer="writer.hamesh"}': 1,
      'registrator_writer_in_step{writer="writer.mirror"}': 1,
      'registrator_writer_in_step{writer="writer.hamesh"}': 1,
      [`registrator_lease_held{registry="${registry}"}`]: 1,
    };
    for (const [series, value] of Object.entries(expectStart)) assert.equal(sample(text, series), value, series);
    assert.ok((sample(text, 'process_cpu_user_seconds_total') ?? -1) >= 0, "Node's default metrics are there too");

    for (let i = 0; i < 3; i++) await web();
    const held = (t: string) => [
      sample(t, 'registrator_containers_held{writer="writer.mirror"}'),
      sample(t, 'registrator_containers_held{writer="writer.hamesh"}'),
    ];
    const writes = (t: string) =>
      Math.min(...['mirror', 'hamesh'].map((w) => sample(t, `registrator_writes_total{writer="writer.${w}"}`) ?? 0));
    // A writer holds a container a moment before its sync is counted: wait for both, then count exactly.
    text = (await waitFor('3 containers held and synced by both writers', async () => {
      const t = await scrape(port);
      return JSON.stringify(held(t)) === '[3,3]' && writes(t) >= 3 && t;
    })) as string;
    // Docker connects a container to its network (a network connect event) before its start event:
    // that one is no hint (the container does not run yet), so each start is one sync.
    const expectRunning: Record<string, number> = {
      'registrator_docker_events_total{action="start"}': 3,
      'registrator_docker_events_total{action="connect"}': 0,
      'registrator_docker_events_total{action="die"}': 0,
      'registrator_writes_total{writer="writer.mirror"}': 3,
      'registrator_writes_total{writer="writer.hamesh"}': 3,
      'registrator_write_errors_total{writer="writer.mirror"}': 0,
      'registrator_write_errors_total{writer="writer.hamesh"}': 0,
    };
    for (const [series, value] of Object.entries(expectRunning)) assert.equal(sample(text, series), value, series);

    d.signal('SIGHUP');
    await d.waitForReconciliations(2);
    text = await scrape(port);
    assert.equal(sample(text, 'registrator_reconcile_duration_seconds_count{outcome="success"}'), 2);
    assert.equal(sample(text, 'registrator_reconciliations_total{outcome="success"}'), 2);
    assert.ok((sample(text, 'registrator_reconcile_duration_seconds_sum{outcome="success"}') ?? 0) > 0);
    assert.equal(sample(text, 'registrator_reconcile_duration_seconds_bucket{le="+Inf",outcome="success"}'), 2);
    // The reconciliation synced each container once more through each writer.
    assert.equal(sample(text, 'registrator_writes_total{writer="writer.mirror"}'), 6);
    assert.equal(sample(text, 'registrator_writes_total{writer="writer.hamesh"}'), 6);
    assert.equal(d.lines.filter((l) => /^synced /.test(l.message)).length, 0, 'a small host logs no progress');

    // Other paths and methods.
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metricsz`)).status, 404);
    const post = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');

    d.signal('SIGINT');
    assert.equal(await d.exited, 0);
    assert.deepEqual(await listening(d.pid), []);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  it('/healthz: 503 while etcd is down and a write failed, 200 again once it is back', async () => {
    const d = start(['hamesh:///mesh']);
    await d.waitForReconciliations(1);
    await healthIs(
      port,
      200,
      body({ status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step', 'writer.hamesh': 'in-step' } }),
    );

    await etcd.signal('SIGKILL');
    await web();
    await d.waitForMetric('registrator_write_errors_total', {}, 1, 30_000);
    await healthIs(
      port,
      503,
      body({
        status: 'degraded',
        docker: 'connected',
        writers: { 'writer.mirror': 'out-of-step', 'writer.hamesh': 'out-of-step' },
      }),
    );
    await d.waitForReconciliations(1, 'failure', 30_000);
    const text = await scrape(port);
    assert.equal(sample(text, 'registrator_write_errors_total{writer="writer.mirror"}'), 1);
    assert.equal(sample(text, 'registrator_writes_total{writer="writer.mirror"}'), 1);
    assert.equal(sample(text, 'registrator_writer_in_step{writer="writer.mirror"}'), 0);
    assert.equal(sample(text, 'registrator_writer_reachable{writer="writer.mirror"}'), 1);
    assert.ok((sample(text, 'registrator_reconciliations_total{outcome="failure"}') ?? 0) >= 1);
    assert.ok((sample(text, 'registrator_reconcile_duration_seconds_count{outcome="failure"}') ?? 0) >= 1);

    await etcd.launch();
    await healthIs(
      port,
      200,
      body({ status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step', 'writer.hamesh': 'in-step' } }),
      60_000,
    );
    assert.equal(sample(await scrape(port), 'registrator_containers_held{writer="writer.mirror"}'), 1);
  });

  it('/healthz: 503 while a registry has not answered its first ping (-retry-attempts)', async () => {
    const dead = await freePorts(1);
    const d = start(['-retry-interval', '200', `hamesh://127.0.0.1:${dead}/mesh`]);
    await d.waitForReconciliations(1);
    await d.waitForWriterState('writer.hamesh', 'unreachable');
    await healthIs(
      port,
      503,
      body({
        status: 'degraded',
        docker: 'connected',
        writers: { 'writer.mirror': 'in-step', 'writer.hamesh': 'unreachable' },
      }),
    );
    const text = await scrape(port);
    assert.equal(sample(text, 'registrator_writer_reachable{writer="writer.hamesh"}'), 0);
    assert.equal(sample(text, 'registrator_writer_in_step{writer="writer.hamesh"}'), 0);
    assert.equal(sample(text, 'registrator_writer_reachable{writer="writer.mirror"}'), 1);
  });

  it('/healthz: 503 "starting" before the first reconciliation, 503 while Docker is unreachable, 200 when it is back', async () => {
    await engine.stop();
    const d = start([]);
    // The state is the same before the first attempt: only the log tells that Docker was tried and refused.
    await d.waitForLog('cannot reach Docker; retrying');
    await healthIs(
      port,
      503,
      body(
        { status: 'starting', docker: 'disconnected', writers: { 'writer.mirror': 'out-of-step' } },
        // Nothing is claimed before the engine says who it is.
        { state: 'claiming', host: HOST, reason: 'the host-name claim has not been taken yet' },
      ),
    );
    assert.equal(sample(await scrape(port), 'registrator_docker_connected'), 0);

    await engine.start(true);
    await d.waitForReconciliations(1, 'success', 30_000);
    await healthIs(port, 200, body({ status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step' } }));

    await engine.stop();
    await healthIs(port, 503, body({ status: 'degraded', docker: 'disconnected', writers: { 'writer.mirror': 'in-step' } }));
    assert.equal(sample(await scrape(port), 'registrator_docker_connected'), 0);
    await engine.start(true);
    await healthIs(port, 200, body({ status: 'ok', docker: 'connected', writers: { 'writer.mirror': 'in-step' } }));
    assert.equal(sample(await scrape(port), 'registrator_docker_connected'), 1);
  });

  it('a reconciliation of more than 200 containers logs "synced N/M" every 200', async () => {
    // 450 containers this host once mirrored and that are gone (entry and index record): the first reconciliation removes each.
    const ids = Array.from({ length: 450 }, (_, i) => `a${i.toString(16).padStart(63, '0')}`);
    await Promise.all(ids.map((id) => etcd.client.put(`/registry/containers/${id}/host`).value(HOST)));
    await Promise.all(ids.map((id) => etcd.client.put(`/_registrator/owners/${HOST}/mirror/registry/${id}`).value(`gone-${id.slice(-4)}`)));
    const d = start([]);
    // The log lines are what this test is about: wait until the one that ends them is read.
    await d.waitForLog('reconciled');
    const progress = d.lines.filter((l) => /^synced /.test(l.message));
    assert.deepEqual(
      progress.map((l) => [l.message, l.done, l.total, l.reason]),
      [
        ['synced 200/450', 200, 450, 'subscribed'],
        ['synced 400/450', 400, 450, 'subscribed'],
      ],
    );
    assert.equal(d.lines.find((l) => l.message === 'reconciled')?.containers, 450);
    assert.deepEqual(await etcd.tree('/registry/'), {});
    assert.deepEqual(await etcd.tree('/_registrator/owners/'), {});
    // What is left is the running daemon's claim on its host name.
    assert.deepEqual(Object.keys(await etcd.tree('/_registrator/')), [`/_registrator/hosts/${HOST}`]);
    const text = await scrape(port);
    assert.equal(sample(text, 'registrator_writes_total{writer="writer.mirror"}'), 450);
    assert.equal(sample(text, 'registrator_containers_held{writer="writer.mirror"}'), 0);
  });

  it('exits 1 naming the address when the port is already in use', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const d = start([]);
      assert.equal(await d.exited, 1);
      const failed = d.lines.find((l) => l.message === 'start failed');
      assert.equal(failed?.err, `cannot listen on 127.0.0.1:${port} (-http-address / -http-port): address already in use`);
    } finally {
      taken.close();
    }
  });
});
