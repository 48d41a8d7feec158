import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseContainer } from '../../src/docker/container';
import { MirrorLayout, mirrorEntry } from '../../src/mirror/keys';
import { checkFleet, type CheckReport, fixFleet } from '../../src/ops/check';
import type { Finding } from '../../src/ops/check-finding';
import { formatCheck } from '../../src/ops/check-format';
import { parseOpsCommand, type OpsInvocation } from '../../src/ops/invocation';
import { closeRegistries, openRegistries } from '../../src/ops/registries';
import { containerServices } from '../../src/registrator/service-model';
import { hameshKeys } from '../../src/hamesh/layout';
import { inspect } from '../fixtures/inspect';
import { runCli } from '../support/cli';
import { DaemonProcess } from '../support/daemon';
import { ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { fillFleet, simulatedContainer, simulatedHost, type SimulatedFleet } from '../support/fleet-fill';
import { silentLogger } from '../support/log';

const PID = process.pid;
const URIS = ['hamesh:///mesh', 'etcd:///services', 'skydns2:///skydns.local'];
const layout = new MirrorLayout('registry');
const GHOST = 'e'.repeat(64);
const OWNERS = '/_registrator/owners/';

type Tree = Record<string, string>;

/** Every key `deletes` names, prefixes expanded against `tree`. */
function deletedKeys(tree: Tree, findings: readonly Finding[]): string[] {
  return findings.flatMap((f) =>
    f.deletes.flatMap((d) => ('key' in d ? (d.key in tree ? [d.key] : []) : Object.keys(tree).filter((k) => k.startsWith(d.prefix)))),
  );
}

function without(tree: Tree, keys: readonly string[]): Tree {
  const gone = new Set(keys);
  return Object.fromEntries(Object.entries(tree).filter(([k]) => !gone.has(k)));
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** What a report's counts must say of `tree` (read at `revision`), counted here from the keys themselves. */
function countsOf(tree: Tree) {
  const keys = Object.keys(tree);
  const under = (prefix: string) => keys.filter((k) => k.startsWith(prefix));
  const records = under(OWNERS);
  const scope = (s: string) => records.filter((k) => k.split('/').slice(4).join('/').startsWith(`${s}/`));
  return {
    mirror: {
      prefix: '/registry/',
      keys: under('/registry/').length,
      entries: new Set(
        under('/registry/containers/')
          .filter((k) => k.split('/').length > 4)
          .map((k) => k.split('/')[3]),
      ).size,
      hostKeys: under('/registry/hosts/').length,
      labelKeys: under('/registry/labels/').length,
    },
    records: records.length,
    claims: under('/_registrator/hosts/').length,
    mirrorRecords: scope('mirror/registry').length,
    hamesh: scope('hamesh/mesh').length,
    etcd: scope('etcd/services').length,
    skydns: scope('skydns2/skydns.local').length,
  };
}

describe('registrator check against a real etcd', () => {
  let etcd: EtcdServer;
  const containers = new TestContainers(`check-${PID}`);
  // No Docker at that socket: check never asks it.
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
    EC_REGISTRATOR_HOST: `checker-${PID}`,
    EC_REGISTRATOR_DOCKER_SOCKET: '/nonexistent/docker.sock',
    EC_REGISTRATOR_LOG_FORMAT: 'json',
    EC_REGISTRATOR_LOG_LEVEL: 'error',
    ...extra,
  });
  const revision = async (): Promise<string> => (await etcd.client.kv.range({ key: Buffer.from('/') })).header.revision;
  const put = async (entries: Tree) => {
    for (const [key, value] of Object.entries(entries)) await etcd.client.put(key).value(value);
  };
  const del = async (keys: string[]) => {
    for (const key of keys) await etcd.client.delete().key(key);
  };
  /** The product's own configuration and read-only registries, as `registrator check` makes them. */
  const invocation = (argv: string[]): OpsInvocation => {
    const parsed = parseOpsCommand('check', argv, env(), false);
    assert.equal(parsed.kind, 'run');
    return (parsed as { invocation: OpsInvocation }).invocation;
  };

  before(async () => {
    etcd = await EtcdServer.start();
  });
  beforeEach(async () => {
    await etcd.client.delete().all();
  });
  after(async () => {
    await containers.removeAll();
    await etcd?.stop();
  });

  it("a tree written by the real daemon and by the product's key builders checks clean: exit 0, nothing written", async () => {
    await ensureTestImage();
    await containers.run([
      '--name',
      `check-web-${PID}`,
      '--label',
      'role=web',
      '--label',
      'a/b=x',
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
    const daemon = new DaemonProcess(URIS, { EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint, EC_REGISTRATOR_HOST: `daemon-${PID}` });
    try {
      await daemon.waitForReconciliations(1);
      daemon.signal('SIGINT');
      assert.equal(await daemon.exited, 0);
    } finally {
      await daemon.kill();
    }
    await fillFleet(etcd.client, { hosts: 4, containers: 3, uris: URIS });
    // Labels the layout reads back without ambiguity (docs/mirror.md): with slashes, empty name, empty value.
    const odd = inspect({ Id: 'c'.repeat(64), Name: '/odd', Labels: { 'a/b/': 'v', '': 'empty name', e: '' } });
    await put(Object.fromEntries(mirrorEntry(parseContainer(odd), 'odd-host', layout)));
    const tree = await etcd.tree('/');
    assert.ok(
      Object.keys(tree).some((k) => k.startsWith(`/registry/hosts/daemon-${PID}/check-web-${PID}`)),
      'the daemon wrote its entry',
    );

    const before = await revision();
    const result = await runCli(['check', '--json', ...URIS, 'consul://127.0.0.1:1'], env());
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as CheckReport;
    const counts = countsOf(tree);
    // The shared engine may run other containers (the daemon mirrors them all): pages and hamesh keys are counted from the tree.
    const pages = Math.ceil(counts.mirror.keys / 1000) + Math.ceil(counts.records / 1000);
    const meshKeys = Object.entries(tree)
      .filter(([k]) => /^\/_registrator\/owners\/[^/]+\/hamesh\/mesh\//.test(k))
      .reduce((n, [, v]) => n + hameshKeys('mesh', JSON.parse(v)).length, 0);
    assert.deepEqual(report, {
      fix: false,
      stores: [
        {
          etcd: `http://${etcd.endpoint}`,
          revision: before,
          pages,
          mirror: { ...counts.mirror, notChecked: 0 },
          owners: {
            prefix: OWNERS,
            records: counts.records,
            mirrorRecords: counts.mirrorRecords,
            notChecked: 0,
            registries: [
              { registry: 'hamesh:///mesh', scope: 'hamesh/mesh', records: counts.hamesh, serviceKeys: meshKeys },
              { registry: 'etcd:///services', scope: 'etcd/services', records: counts.etcd, serviceKeys: counts.etcd },
              { registry: 'skydns2:///skydns.local', scope: 'skydns2/skydns.local', records: counts.skydns, serviceKeys: counts.skydns },
            ],
          },
          claims: { prefix: '/_registrator/hosts/', claims: counts.claims, leased: counts.claims },
          findings: [],
        },
      ],
      notCovered: [
        { registry: 'consul://127.0.0.1:1', reason: 'not checked: check reads only the etcd-based registries (hamesh, etcd, skydns2)' },
      ],
      findings: 0,
      deleted: 0,
      kept: 0,
    });
    assert.ok(counts.hamesh >= 13 && counts.mirrorRecords >= 14, "the daemon's and the fleet's data were read");

    const text = await runCli(['check', ...URIS], env());
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `^etcd http://${etcd.endpoint} at revision ${before}: read /registry/ ${counts.mirror.keys} keys \\(.*\\) in ${pages} pages: no findings\n$`,
      ),
    );
    // --fix with nothing found changes nothing either.
    assert.equal((await runCli(['check', '--fix', ...URIS], env())).code, 0);
    assert.equal(await revision(), before, 'check wrote to etcd');
  });

  it('each kind of finding planted by hand is reported exactly (exit 1); --fix deletes exactly those keys and then the tree checks clean', async () => {
    const fleet: SimulatedFleet = { hosts: 3, containers: 2, uris: URIS };
    await fillFleet(etcd.client, fleet);
    const id = (h: number, c: number) => simulatedContainer(fleet, h, c).Id;
    const host = (h: number) => simulatedHost(fleet, h);
    const entry = (h: number, c: number) => layout.container(id(h, c));
    const record = (h: number, c: number) => layout.ownerIndexKey(host(h), id(h, c));
    const info21 = simulatedContainer(fleet, 2, 1);
    const service21 = containerServices(parseContainer(info21), {
      host: host(2),
      hostIp: '10.99.0.2',
      internal: false,
      explicit: false,
      tags: '',
      useIpFromLabel: '',
    }).services[0];
    const mesh21 = hameshKeys('mesh', service21).map(([k]) => k);
    const meshRecord21 = `${OWNERS}${host(2)}/hamesh/mesh/${service21.origin.containerId}/${encodeURIComponent(service21.id)}`;

    await put({
      [`/registry/labels/app/${GHOST}`]: 'sim',
      [`/registry/labels/tier/${id(0, 0)}`]: 'x',
      [`/registry/labels/app/${id(0, 1)}`]: 'other',
      '/registry/labels/app/not-an-id': 'sim',
      [`/registry/hosts/${host(0)}/ghost`]: GHOST,
      '/registry/hosts/elsewhere/c0000': id(0, 0),
      [`/registry/hosts/${host(1)}/other`]: id(1, 0),
      [`${OWNERS}${host(0)}/mirror/registry/${GHOST}`]: 'ghost',
      [layout.ownerIndexKey(host(2), id(0, 0))]: 'c0000',
      [`${OWNERS}${host(0)}/etcd/services/garbage`]: '{',
      // Not judged: a scope not checked, a key outside the layout.
      [`${OWNERS}${host(0)}/consulkv/kv/x`]: 'x',
      '/registry/misc': 'x',
    });
    await del([`${entry(1, 1)}host`, `/registry/hosts/${host(2)}/c0000`, ...mesh21]);
    const tree = await etcd.tree('/');

    const own = (key: string) => [{ key }];
    const expected: Finding[] = [
      {
        kind: 'label-key',
        key: `/registry/labels/app/${GHOST}`,
        value: 'sim',
        reason: `points at no entry (${layout.container(GHOST)} holds nothing)`,
        judgedOn: [{ prefix: layout.container(GHOST) }],
        deletes: own(`/registry/labels/app/${GHOST}`),
      },
      {
        kind: 'label-key',
        key: `/registry/labels/tier/${id(0, 0)}`,
        value: 'x',
        reason: `its entry does not list label "tier" (no ${entry(0, 0)}labels/tier)`,
        judgedOn: own(`${entry(0, 0)}labels/tier`),
        deletes: own(`/registry/labels/tier/${id(0, 0)}`),
      },
      {
        kind: 'label-key',
        key: `/registry/labels/app/${id(0, 1)}`,
        value: 'other',
        reason: 'its entry gives label "app" the value "sim"',
        judgedOn: own(`${entry(0, 1)}labels/app`),
        deletes: own(`/registry/labels/app/${id(0, 1)}`),
      },
      {
        kind: 'label-key',
        key: '/registry/labels/app/not-an-id',
        value: 'sim',
        reason: 'is not labels/<label>/<id> with <id> a container id (64 hex)',
        judgedOn: [],
        deletes: own('/registry/labels/app/not-an-id'),
      },
      {
        kind: 'host-key',
        key: `/registry/hosts/${host(0)}/ghost`,
        value: GHOST,
        reason: `points at no entry (${layout.container(GHOST)} holds nothing)`,
        judgedOn: [{ prefix: layout.container(GHOST) }],
        deletes: own(`/registry/hosts/${host(0)}/ghost`),
      },
      {
        kind: 'host-key',
        key: '/registry/hosts/elsewhere/c0000',
        value: id(0, 0),
        reason: `its entry's host is "${host(0)}", not "elsewhere"`,
        judgedOn: own(`${entry(0, 0)}host`),
        deletes: own('/registry/hosts/elsewhere/c0000'),
      },
      {
        kind: 'host-key',
        key: `/registry/hosts/${host(1)}/other`,
        value: id(1, 0),
        reason: 'its entry\'s name is "c0000", not "other"',
        judgedOn: own(`${entry(1, 0)}name`),
        deletes: own(`/registry/hosts/${host(1)}/other`),
      },
      // An entry without a host: its hosts/ key and index record contradict it; its labels/ keys go with it.
      {
        kind: 'entry',
        key: entry(1, 1),
        value: null,
        reason: 'has no host key',
        judgedOn: [],
        deletes: [{ prefix: entry(1, 1) }, { key: `/registry/labels/app/${id(1, 1)}` }, { key: `/registry/labels/fleet.host/${id(1, 1)}` }],
      },
      {
        kind: 'host-key',
        key: `/registry/hosts/${host(1)}/c0001`,
        value: id(1, 1),
        reason: `its entry has no host (no ${entry(1, 1)}host)`,
        judgedOn: own(`${entry(1, 1)}host`),
        deletes: own(`/registry/hosts/${host(1)}/c0001`),
      },
      {
        kind: 'mirror-record',
        key: record(1, 1),
        value: 'c0001',
        reason: `its entry names no host (no ${entry(1, 1)}host)`,
        judgedOn: own(`${entry(1, 1)}host`),
        deletes: own(record(1, 1)),
      },
      // An entry whose hosts/ key is gone: its labels/ keys and its host's index record go with it.
      {
        kind: 'entry',
        key: entry(2, 0),
        value: null,
        reason: `its hosts/ key /registry/hosts/${host(2)}/c0000 is missing`,
        judgedOn: own(`/registry/hosts/${host(2)}/c0000`),
        deletes: [
          { prefix: entry(2, 0) },
          { key: `/registry/labels/app/${id(2, 0)}` },
          { key: `/registry/labels/fleet.host/${id(2, 0)}` },
          { key: record(2, 0) },
        ],
      },
      {
        kind: 'mirror-record',
        key: `${OWNERS}${host(0)}/mirror/registry/${GHOST}`,
        value: 'ghost',
        reason: `its entry is missing (${layout.container(GHOST)} holds nothing)`,
        judgedOn: [{ prefix: layout.container(GHOST) }],
        deletes: own(`${OWNERS}${host(0)}/mirror/registry/${GHOST}`),
      },
      {
        kind: 'mirror-record',
        key: layout.ownerIndexKey(host(2), id(0, 0)),
        value: 'c0000',
        reason: `its entry names host "${host(0)}"`,
        judgedOn: own(`${entry(0, 0)}host`),
        deletes: own(layout.ownerIndexKey(host(2), id(0, 0))),
      },
      {
        kind: 'registry-record',
        key: `${OWNERS}${host(0)}/etcd/services/garbage`,
        value: '{',
        reason: `is not the JSON of a service (not JSON: ${jsonError('{')})`,
        judgedOn: [],
        deletes: own(`${OWNERS}${host(0)}/etcd/services/garbage`),
      },
      {
        kind: 'registry-record',
        key: meshRecord21,
        value: tree[meshRecord21],
        reason: `none of the keys of service "${service21.id}" is in hamesh:///mesh (${mesh21.join(', ')})`,
        judgedOn: mesh21.map((key) => ({ key })),
        deletes: own(meshRecord21),
      },
    ];
    expected.sort(byKey);

    const before = await revision();
    const result = await runCli(['check', '--json', ...URIS], env());
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as CheckReport;
    const counts = countsOf(tree);
    assert.deepEqual(report, {
      fix: false,
      stores: [
        {
          etcd: `http://${etcd.endpoint}`,
          revision: before,
          pages: 2,
          mirror: { ...counts.mirror, notChecked: 1 },
          owners: {
            prefix: OWNERS,
            records: counts.records,
            mirrorRecords: counts.mirrorRecords,
            notChecked: 1,
            registries: [
              { registry: 'hamesh:///mesh', scope: 'hamesh/mesh', records: 6, serviceKeys: 18 },
              { registry: 'etcd:///services', scope: 'etcd/services', records: 7, serviceKeys: 6 },
              { registry: 'skydns2:///skydns.local', scope: 'skydns2/skydns.local', records: 6, serviceKeys: 6 },
            ],
          },
          claims: { prefix: '/_registrator/hosts/', claims: counts.claims, leased: counts.claims },
          findings: expected,
        },
      ],
      notCovered: [],
      findings: expected.length,
      deleted: 0,
      kept: 0,
    });
    assert.equal(await revision(), before, 'check wrote to etcd');

    // Text: one line per finding, then the summary.
    const text = await runCli(['check', ...URIS], env());
    assert.equal(text.code, 1);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length + 1);
    assert.equal(
      lines.find((l) => l.startsWith(`registry-record ${meshRecord21} `)),
      `registry-record ${meshRecord21} = ${tree[meshRecord21].slice(0, 120)}...: none of the keys of service "${service21.id}" is in hamesh:///mesh (${mesh21.join(', ')})`,
    );
    assert.ok(lines.includes(`entry ${entry(1, 1)}: has no host key`));
    assert.match(lines.at(-1)!, new RegExp(`: ${expected.length} findings$`));

    const fixed = await runCli(['check', '--fix', '--json', ...URIS], env());
    assert.equal(fixed.code, 1, fixed.stderr);
    const fixReport = JSON.parse(fixed.stdout) as CheckReport;
    assert.deepEqual(
      fixReport.stores[0].findings,
      expected.map((f) => ({ ...f, fix: 'deleted' })),
    );
    assert.deepEqual([fixReport.fix, fixReport.findings, fixReport.deleted, fixReport.kept], [true, expected.length, expected.length, 0]);
    // Exactly the findings' keys are gone, every other key is as it was.
    assert.deepEqual(await etcd.tree('/'), without(tree, deletedKeys(tree, expected)));

    const again = await runCli(['check', ...URIS], env());
    assert.equal(again.code, 0, again.stdout);
  });

  it('a key changed between the check and the fix is kept; the rest is deleted, an entry too large for one transaction included', async () => {
    const fleet: SimulatedFleet = { hosts: 2, containers: 2, uris: URIS };
    await fillFleet(etcd.client, fleet);
    const id = (h: number, c: number) => simulatedContainer(fleet, h, c).Id;
    const host = (h: number) => simulatedHost(fleet, h);
    // 150 labels, and no hosts/ key: its fix is more than one transaction's worth of deletes.
    const big = inspect({
      Id: 'b'.repeat(64),
      Name: '/big',
      Labels: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`l${i}`, String(i)])),
    });
    await put(
      Object.fromEntries([...mirrorEntry(parseContainer(big), 'big-host', layout)].filter(([k]) => !k.startsWith('/registry/hosts/'))),
    );
    await put({
      [`/registry/labels/app/${GHOST}`]: 'sim',
      [`/registry/hosts/${host(0)}/ghost`]: GHOST,
      [`/registry/labels/tier/${id(0, 0)}`]: 'x',
      [`/registry/labels/app/${id(0, 1)}`]: 'other',
    });

    const { config } = invocation(URIS);
    const registries = await openRegistries(config, etcd.client, silentLogger);
    try {
      const check = await checkFleet({ etcd: etcd.client, endpoints: etcd.endpoint, mirror: layout, registries });
      const planted = (outcomes: string[]) =>
        [
          ['entry', layout.container(big.Id), outcomes[0]],
          ['host-key', `/registry/hosts/${host(0)}/ghost`, outcomes[1]],
          ['label-key', `/registry/labels/app/${id(0, 1)}`, outcomes[2]],
          ['label-key', `/registry/labels/app/${GHOST}`, outcomes[3]],
          ['label-key', `/registry/labels/tier/${id(0, 0)}`, outcomes[4]],
        ].sort(([, a], [, b]) => (a < b ? -1 : 1));
      assert.deepEqual(
        check.report.stores[0].findings.map((f) => [f.kind, f.key, undefined]),
        planted([]),
      );
      // Meanwhile: the missing entry appears, the hosts/ key is written again (same value), the label is added to its entry.
      await put({
        [`${layout.container(GHOST)}id`]: GHOST,
        [`/registry/hosts/${host(0)}/ghost`]: GHOST,
        [`${layout.container(id(0, 0))}labels/tier`]: 'x',
      });
      const changed = await etcd.tree('/');
      const report = await fixFleet(check);
      assert.deepEqual(
        report.stores[0].findings.map((f) => [f.kind, f.key, f.fix]),
        planted(['deleted', 'kept', 'deleted', 'kept', 'kept']),
      );
      assert.deepEqual([report.findings, report.deleted, report.kept], [5, 2, 3]);
      const bigKeys = Object.keys(changed).filter((k) => k.includes(big.Id));
      assert.equal(bigKeys.length, 2 * 150 + 7 + 1, 'the entry, its labels/ keys and its index record');
      assert.deepEqual(await etcd.tree('/'), without(changed, [...bigKeys, `/registry/labels/app/${id(0, 1)}`]));
      assert.match(
        formatCheck(report),
        new RegExp(
          `\nlabel-key /registry/labels/app/${GHOST} = sim: points at no entry \\(${layout.container(GHOST)} holds nothing\\): kept: changed since the check\n`,
        ),
      );
    } finally {
      await closeRegistries(registries);
    }
  });

  it('a fleet of 300 hosts checks clean, read in pages at one revision; a registry with its own etcd is read there', async () => {
    const started = Date.now();
    const written = await fillFleet(etcd.client, { hosts: 300, containers: 2, uris: URIS });
    const tree = await etcd.tree('/');
    assert.equal(Object.keys(tree).length, written);
    const counts = countsOf(tree);
    const before = await revision();

    const result = await runCli(['check', '--json', ...URIS], env());
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as CheckReport;
    // Pages of 1000 keys by default: the two passes take exactly as many range requests as that gives.
    assert.equal(report.stores[0].pages, Math.ceil(counts.mirror.keys / 1000) + Math.ceil(counts.records / 1000));
    assert.ok(report.stores[0].pages >= 12);
    assert.deepEqual(report.stores[0].mirror, { ...counts.mirror, notChecked: 0 });
    assert.equal(report.stores[0].mirror!.entries, 600);
    assert.equal(report.stores[0].owners.records, 600 * 4);

    // Smaller pages through the library: the same verdict, more pages.
    const { config } = invocation([URIS[0], `etcd://${etcd.endpoint}/services`]);
    const registries = await openRegistries(config, etcd.client, silentLogger);
    try {
      const check = await checkFleet({ etcd: etcd.client, endpoints: etcd.endpoint, mirror: layout, registries }, { pageSize: 250 });
      const [main, own] = check.report.stores;
      assert.equal(main.pages, Math.ceil(counts.mirror.keys / 250) + Math.ceil(counts.records / 250));
      assert.deepEqual(
        [main.revision, main.findings, main.owners.notChecked, main.owners.registries],
        [before, [], 1200, [{ registry: 'hamesh:///mesh', scope: 'hamesh/mesh', records: 600, serviceKeys: 1800 }]],
      );
      // The etcd:// URI with a host:port is read on its own connection: only its records are judged there.
      assert.deepEqual(own, {
        etcd: etcd.endpoint,
        revision: before,
        pages: Math.ceil(counts.records / 250),
        mirror: null,
        owners: {
          prefix: OWNERS,
          records: 2400,
          mirrorRecords: 0,
          notChecked: 1800,
          registries: [{ registry: `etcd://${etcd.endpoint}/services`, scope: 'etcd/services', records: 600, serviceKeys: 600 }],
        },
        claims: null,
        findings: [],
      });
    } finally {
      await closeRegistries(registries);
    }
    assert.equal(await revision(), before, 'check wrote to etcd');
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  });

  it('bad usage exits 2 with one line; etcd that cannot be read is one line and exit 2', async () => {
    assert.deepEqual(await runCli(['check', '--bogus', ...URIS], env()), {
      code: 2,
      stdout: '',
      stderr: 'registrator check: unknown option --bogus (see --help)\n',
    });
    assert.deepEqual(await runCli(['ls', '--fix', ...URIS], env()), {
      code: 2,
      stdout: '',
      stderr: 'registrator ls: unknown option --fix (see --help)\n',
    });
    const noEtcd = await runCli(['check', '--fix', ...URIS], env({ EC_REGISTRATOR_ETCD_HOSTS: '127.0.0.1:1' }));
    assert.equal(noEtcd.code, 2);
    assert.equal(noEtcd.stdout, '');
    assert.match(noEtcd.stderr, /^registrator check: cannot read etcd: [^\n]*\n$/);
    const help = await runCli(['check', '--help'], env());
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: registrator check \[--fix\] \[--json\] \[options\] \[registry-uri \.\.\.\]\n/);
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}
