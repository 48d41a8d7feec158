import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { EtcdServer } from '../support/etcd';
import { parseMetrics } from '../support/metrics';
import { freePorts } from '../support/ports';
import { PrometheusServer, QuerySample } from '../support/prometheus';
import { waitFor } from '../support/wait';

const exec = promisify(execFile);
const HOST = `prometheus-${process.pid}`;
const RULES_DIR = join(__dirname, '../../../deploy/prometheus');
const ALERTS = join(RULES_DIR, 'alerts.yml');
const ALERT_NAMES = [
  'RegistratorWriterOutOfStep',
  'RegistratorReconciliationsFailing',
  'RegistratorDockerEventsDown',
  'RegistratorHostNameConflict',
  'RegistratorEtcdHistoryChanged',
  'RegistratorSelfHealingRepeating',
];

/** Each sample's value by the value of its label `by`. */
function byLabel(samples: QuerySample[], by: string): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [s.labels[by], s.value]));
}

/** promtool's exit status and output. */
async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec('promtool', args);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('Prometheus 2.42 scrapes the real daemon and evaluates the shipped alerting rules', () => {
  let etcd: EtcdServer;
  let registryEtcd: EtcdServer | undefined;
  let registryPort: number;
  let daemon: DaemonProcess;
  let prometheus: PrometheusServer;
  let instance: string;

  before(async () => {
    etcd = await EtcdServer.start();
    // The hamesh writer's etcd is not there yet: that writer stays out of step until it is started.
    registryPort = await freePorts(2);
    daemon = new DaemonProcess(['-retry-interval', '200', `hamesh://127.0.0.1:${registryPort}/mesh`], {
      EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
      EC_REGISTRATOR_HOST: HOST,
    });
    instance = `127.0.0.1:${daemon.httpPort}`;
    prometheus = await PrometheusServer.start({ jobs: { registrator: [instance] }, ruleFiles: [ALERTS] });
  });
  after(async () => {
    await daemon?.kill();
    await prometheus?.stop();
    await registryEtcd?.stop();
    await etcd?.stop();
  });

  it('sees a writer whose etcd is down out of step, sets off RegistratorWriterOutOfStep for it alone, and clears it once that etcd is up', async () => {
    await daemon.waitForWriterState('writer.mirror', 'in-step');
    await daemon.waitForWriterState('writer.hamesh', 'unreachable');
    await prometheus.waitForQuery(`up{job="registrator", instance="${instance}"}`, (s) => s.length === 1 && s[0].value === 1);

    const inStep = await prometheus.waitForQuery('registrator_writer_in_step', (s) => s.length === 2);
    assert.deepEqual(byLabel(inStep, 'writer'), { 'writer.mirror': 1, 'writer.hamesh': 0 });
    assert.equal(inStep[0].labels.instance, instance);
    assert.deepEqual(byLabel(await prometheus.query('registrator_writer_reachable'), 'writer'), { 'writer.mirror': 1, 'writer.hamesh': 0 });

    // `for: 5m`, so pending: the rule's expression holds on the daemon's real series, for this writer only.
    const pending = (await waitFor('RegistratorWriterOutOfStep pending', async () => {
      const alerts = await prometheus.alerts();
      return alerts.length > 0 ? alerts : undefined;
    }))!;
    assert.deepEqual(
      pending.map((a) => ({ labels: a.labels, state: a.state })),
      [
        {
          labels: { alertname: 'RegistratorWriterOutOfStep', instance, job: 'registrator', severity: 'critical', writer: 'writer.hamesh' },
          state: 'pending',
        },
      ],
    );
    assert.equal(pending[0].annotations.summary, `service-registrator writer writer.hamesh on ${instance} is out of step`);

    registryEtcd = await EtcdServer.start({ port: registryPort });
    await daemon.waitUntilHealthy(30_000);
    await prometheus.waitForQuery('registrator_writer_in_step{writer="writer.hamesh"}', (s) => s.length === 1 && s[0].value === 1);
    await waitFor('no alert pending or firing', async () => (await prometheus.alerts()).length === 0, 20_000, 200);
  });

  it("stores every registrator_ series the daemon exposes, and follows its values (a SIGHUP's reconciliation)", async () => {
    const exposed: Record<string, number> = {};
    const text = await (await fetch(`http://${instance}/metrics`)).text();
    for (const s of parseMetrics(text)) if (s.name.startsWith('registrator_')) exposed[s.name] = (exposed[s.name] ?? 0) + 1;
    for (const name of ['registrator_writer_in_step', 'registrator_docker_connected', 'registrator_reconciliations_total'])
      assert.ok(exposed[name] > 0, `${name} in ${JSON.stringify(exposed)}`);
    const stored = await prometheus.waitForQuery(
      `count by (__name__) ({job="registrator", __name__=~"registrator_.+"})`,
      (s) => s.length > 0,
    );
    assert.deepEqual(byLabel(stored, '__name__'), exposed);

    const [target] = await prometheus.targets();
    assert.deepEqual(
      { health: target.health, lastError: target.lastError, job: target.labels.job },
      { health: 'up', lastError: '', job: 'registrator' },
    );
    assert.deepEqual(byLabel(await prometheus.query('registrator_docker_connected'), 'instance'), { [instance]: 1 });

    const done = await daemon.reconciliations();
    await daemon.reconcileOn('SIGHUP');
    const successes = await prometheus.waitForQuery(
      'registrator_reconciliations_total{outcome="success"}',
      (s) => s[0]?.value === done + 1,
    );
    assert.deepEqual(byLabel(successes, 'instance'), { [instance]: done + 1 });
    assert.deepEqual(byLabel(await prometheus.query('registrator_reconciliations_total{outcome="failure"}'), 'instance'), {
      [instance]: 0,
    });
  });

  it('loads every shipped rule, evaluates each without error, and has none pending or firing for a healthy daemon', async () => {
    const groups = (await waitFor('every rule evaluated', async () => {
      const loaded = await prometheus.rules();
      return loaded['service-registrator']?.every((r) => r.health !== 'unknown') ? loaded : undefined;
    }))!;
    assert.deepEqual(Object.keys(groups), ['service-registrator']);
    assert.deepEqual(
      groups['service-registrator'].map((r) => ({ name: r.name, type: r.type, health: r.health, lastError: r.lastError ?? '' })),
      ALERT_NAMES.map((name) => ({ name, type: 'alerting', health: 'ok', lastError: '' })),
    );
    assert.deepEqual(await prometheus.alerts(), []);
  });

  it("passes the rules' unit tests (promtool test rules), which fail when a rule's delay changes", async () => {
    const ok = await promtool(['test', 'rules', join(RULES_DIR, 'alerts.test.yml')]);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /SUCCESS/);

    const dir = mkdtempSync(join(tmpdir(), 'sr-rules-'));
    try {
      copyFileSync(join(RULES_DIR, 'alerts.test.yml'), join(dir, 'alerts.test.yml'));
      const rules = readFileSync(ALERTS, 'utf8');
      const changed = rules.replace(/(alert: RegistratorWriterOutOfStep\n\s+expr: .*\n\s+for: )5m/, '$14m');
      assert.notEqual(changed, rules);
      writeFileSync(join(dir, 'alerts.yml'), changed);
      const failed = await promtool(['test', 'rules', join(dir, 'alerts.test.yml')]);
      assert.equal(failed.code, 1, failed.output);
      assert.match(failed.output, /FAILED:\s+alertname: RegistratorWriterOutOfStep, time: 6m/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
