import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { MAX_TXN_OPS } from '../../src/etcd/key-ops';
import { MirrorLayout, mirrorEntry } from '../../src/mirror/keys';
import type { CheckReport } from '../../src/ops/check';
import type { Finding } from '../../src/ops/check-finding';
import { fixTxns } from '../../src/ops/check-fix';
import { formatCheck } from '../../src/ops/check-format';
import { type Kv, MirrorJudge, PageOrderError } from '../../src/ops/check-mirror';
import { type CheckedRegistry, type OwnerCounts, OwnersJudge } from '../../src/ops/check-owners';
import { readServiceRecord } from '../../src/registrator/service-record';
import type { BackendFactory } from '../../src/registrator/backend';
import { createEtcdBackend } from '../../src/registrator/backends/etcd';
import { createHameshBackend } from '../../src/registrator/backends/hamesh';
import { EtcdKvBackend } from '../../src/registrator/etcd-kv-backend';
import type { Service } from '../../src/registrator/service';
import { containerServices } from '../../src/registrator/service-model';
import { parseRegistryUri } from '../../src/registrator/schemes';
import { inspect } from '../fixtures/inspect';
import { silentLogger } from '../support/log';

const layout = new MirrorLayout('registry');
const ID1 = '1'.repeat(64);
const ID2 = '2'.repeat(64);
const ID3 = '3'.repeat(64);
const ID4 = '4'.repeat(64);
const GHOST = 'f'.repeat(64);
const C1 = layout.container(ID1);
const C3 = layout.container(ID3);
const C4 = layout.container(ID4);
const URIS = ['hamesh:///mesh', 'etcd:///services'];
const FACTORIES: Record<string, BackendFactory> = { hamesh: createHameshBackend, etcd: createEtcdBackend };

/** The registries as the daemon makes them (no etcd is reached: only their key layout is used). */
const backends = URIS.map((raw) => {
  const uri = parseRegistryUri(raw);
  const backend = FACTORIES[uri.scheme](uri, {
    host: 'h1',
    etcdFor: () => ({ client: undefined as unknown as Etcd3, shared: true }),
    readOnly: true,
    requestReconcile: () => undefined,
    log: silentLogger,
  });
  assert.ok(backend instanceof EtcdKvBackend);
  return { uri, backend };
});
const registries: CheckedRegistry[] = backends.map(({ uri, backend }) => ({
  registry: uri.raw,
  scope: backend.scope,
  keysOf: (s) => backend.keysOf(s),
}));

const containers: Array<[host: string, info: ContainerInfo]> = [
  [
    'h1',
    inspect({
      Id: ID1,
      Name: '/c1',
      Labels: { role: 'web', 'a/b': 'x' },
      ExposedPorts: { '80/tcp': {} },
      Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
      Env: ['SERVICE_NAME=web'],
    }),
  ],
  [
    'h2',
    inspect({
      Id: ID2,
      Name: '/c2',
      Labels: { role: 'db' },
      ExposedPorts: { '5432/tcp': {} },
      Ports: { '5432/tcp': [{ HostIp: '0.0.0.0', HostPort: '5432' }] },
      Env: ['SERVICE_NAME=db'],
    }),
  ],
  ['h1', inspect({ Id: ID3, Name: '/c3' })],
];

function servicesOf(host: string, info: ContainerInfo): Service[] {
  return containerServices(parseContainer(info), {
    host,
    hostIp: '10.0.0.1',
    internal: false,
    explicit: false,
    tags: '',
    useIpFromLabel: '',
  }).services;
}

/** A consistent tree: every container's entry as the mirror writes it, and its services with their ownership records. */
function consistentTree(): Map<string, string> {
  const tree = new Map<string, string>();
  for (const [host, info] of containers) {
    for (const [key, value] of mirrorEntry(parseContainer(info), host, layout)) tree.set(key, value);
    for (const { uri } of backends) {
      const backend = FACTORIES[uri.scheme](uri, {
        host,
        etcdFor: () => ({ client: undefined as unknown as Etcd3, shared: true }),
        readOnly: true,
        requestReconcile: () => undefined,
        log: silentLogger,
      }) as EtcdKvBackend;
      for (const service of servicesOf(host, info))
        for (const op of backend.registerOps(service)) if ('put' in op) tree.set(op.put, op.value);
    }
  }
  return tree;
}

const web = servicesOf('h1', containers[0][1])[0];
const WEB_RECORD = {
  hamesh: `/_registrator/owners/h1/hamesh/mesh/${web.origin.containerId}/${encodeURIComponent(web.id)}`,
  etcd: `/_registrator/owners/h1/etcd/services/${web.origin.containerId}/${encodeURIComponent(web.id)}`,
};

/** The judges fed as `registrator check` feeds them: sorted, in small pages, service keys looked up in the tree. */
function judge(
  tree: ReadonlyMap<string, string>,
  pageSize = 3,
): { findings: Finding[]; owners: OwnerCounts; mirror: ReturnType<MirrorJudge['finish']>['counts'] } {
  const sorted: Kv[] = [...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const pages = (prefix: string) => {
    const kvs = sorted.filter(([k]) => k.startsWith(prefix));
    return Array.from({ length: Math.ceil(kvs.length / pageSize) }, (_, i) => kvs.slice(i * pageSize, (i + 1) * pageSize));
  };
  const mirror = new MirrorJudge(layout);
  for (const page of pages(layout.allPrefix)) mirror.page(page);
  const verdict = mirror.finish();
  const owners = new OwnersJudge({ mirror: { layout, verdict }, registries });
  for (const page of pages('/_registrator/owners/')) {
    const records = owners.read(page);
    owners.judge(records, new Set(records.serviceKeys.filter((k) => tree.has(k))));
  }
  const o = owners.finish();
  return {
    findings: [...verdict.findings, ...o.findings].sort((a, b) => (a.key < b.key ? -1 : 1)),
    owners: o.counts,
    mirror: verdict.counts,
  };
}

const own = (key: string) => [{ key }];
const noEntry = (id: string) => `points at no entry (${layout.container(id)} holds nothing)`;

type Case = { name: string; change: (tree: Map<string, string>) => void; findings: (tree: ReadonlyMap<string, string>) => Finding[] };

const CASES: Case[] = [
  {
    name: 'a labels/ key of no entry',
    change: (t) => t.set(`/registry/labels/role/${GHOST}`, 'web'),
    findings: () => [
      {
        kind: 'label-key',
        key: `/registry/labels/role/${GHOST}`,
        value: 'web',
        reason: noEntry(GHOST),
        judgedOn: [{ prefix: layout.container(GHOST) }],
        deletes: own(`/registry/labels/role/${GHOST}`),
      },
    ],
  },
  {
    name: 'a labels/ key of a label its entry does not list',
    change: (t) => t.set(`/registry/labels/tier/${ID1}`, 'front'),
    findings: () => [
      {
        kind: 'label-key',
        key: `/registry/labels/tier/${ID1}`,
        value: 'front',
        reason: `its entry does not list label "tier" (no ${C1}labels/tier)`,
        judgedOn: own(`${C1}labels/tier`),
        deletes: own(`/registry/labels/tier/${ID1}`),
      },
    ],
  },
  {
    name: "a labels/ key whose value is not its entry's (a label name with a slash)",
    change: (t) => t.set(`/registry/labels/a/b/${ID1}`, 'y'),
    findings: () => [
      {
        kind: 'label-key',
        key: `/registry/labels/a/b/${ID1}`,
        value: 'y',
        reason: 'its entry gives label "a/b" the value "x"',
        judgedOn: own(`${C1}labels/a/b`),
        deletes: own(`/registry/labels/a/b/${ID1}`),
      },
    ],
  },
  {
    name: 'labels/ keys whose last segment is no container id',
    change: (t) => {
      t.set('/registry/labels/role/not-an-id', 'x');
      t.set(`/registry/labels/${ID1}`, 'x');
    },
    findings: () =>
      [`/registry/labels/${ID1}`, '/registry/labels/role/not-an-id'].map((key) => ({
        kind: 'label-key',
        key,
        value: 'x',
        reason: 'is not labels/<label>/<id> with <id> a container id (64 hex)',
        judgedOn: [],
        deletes: own(key),
      })),
  },
  {
    name: 'a hosts/ key of no entry',
    change: (t) => t.set('/registry/hosts/h1/ghost', GHOST),
    findings: () => [
      {
        kind: 'host-key',
        key: '/registry/hosts/h1/ghost',
        value: GHOST,
        reason: noEntry(GHOST),
        judgedOn: [{ prefix: layout.container(GHOST) }],
        deletes: own('/registry/hosts/h1/ghost'),
      },
    ],
  },
  {
    name: "a hosts/ key under another host than its entry's",
    change: (t) => t.set('/registry/hosts/h3/c1', ID1),
    findings: () => [
      {
        kind: 'host-key',
        key: '/registry/hosts/h3/c1',
        value: ID1,
        reason: 'its entry\'s host is "h1", not "h3"',
        judgedOn: own(`${C1}host`),
        deletes: own('/registry/hosts/h3/c1'),
      },
    ],
  },
  {
    name: "a hosts/ key under another name than its entry's",
    change: (t) => t.set('/registry/hosts/h1/other', ID1),
    findings: () => [
      {
        kind: 'host-key',
        key: '/registry/hosts/h1/other',
        value: ID1,
        reason: 'its entry\'s name is "c1", not "other"',
        judgedOn: own(`${C1}name`),
        deletes: own('/registry/hosts/h1/other'),
      },
    ],
  },
  {
    name: 'a hosts/ key that is not hosts/<host>/<name>',
    change: (t) => t.set('/registry/hosts/h1', ID1),
    findings: () => [
      {
        kind: 'host-key',
        key: '/registry/hosts/h1',
        value: ID1,
        reason: 'is not hosts/<host>/<name>',
        judgedOn: [],
        deletes: own('/registry/hosts/h1'),
      },
    ],
  },
  {
    name: 'an entry without a host: it, its hosts/ key and its index record',
    change: (t) => t.delete(`${C3}host`),
    findings: () => [
      {
        kind: 'mirror-record',
        key: `/_registrator/owners/h1/mirror/registry/${ID3}`,
        value: 'c3',
        reason: `its entry names no host (no ${C3}host)`,
        judgedOn: own(`${C3}host`),
        deletes: own(`/_registrator/owners/h1/mirror/registry/${ID3}`),
      },
      { kind: 'entry', key: C3, value: null, reason: 'has no host key', judgedOn: [], deletes: [{ prefix: C3 }] },
      {
        kind: 'host-key',
        key: '/registry/hosts/h1/c3',
        value: ID3,
        reason: `its entry has no host (no ${C3}host)`,
        judgedOn: own(`${C3}host`),
        deletes: own('/registry/hosts/h1/c3'),
      },
    ],
  },
  {
    name: 'an entry without a name: its index record goes with it',
    change: (t) => t.delete(`${C3}name`),
    findings: () => [
      {
        kind: 'entry',
        key: C3,
        value: null,
        reason: 'has no name key',
        judgedOn: [],
        deletes: [{ prefix: C3 }, { key: `/_registrator/owners/h1/mirror/registry/${ID3}` }],
      },
      {
        kind: 'host-key',
        key: '/registry/hosts/h1/c3',
        value: ID3,
        reason: `its entry has no name (no ${C3}name)`,
        judgedOn: own(`${C3}name`),
        deletes: own('/registry/hosts/h1/c3'),
      },
    ],
  },
  {
    name: 'an entry whose hosts/ key is missing: its labels/ keys and index record go with it',
    change: (t) => t.delete('/registry/hosts/h1/c1'),
    findings: () => [
      {
        kind: 'entry',
        key: C1,
        value: null,
        reason: 'its hosts/ key /registry/hosts/h1/c1 is missing',
        judgedOn: own('/registry/hosts/h1/c1'),
        deletes: [
          { prefix: C1 },
          { key: `/registry/labels/a/b/${ID1}` },
          { key: `/registry/labels/role/${ID1}` },
          { key: `/_registrator/owners/h1/mirror/registry/${ID1}` },
        ],
      },
    ],
  },
  {
    name: 'an entry whose hosts/ key names another container, which that key contradicts too',
    change: (t) => t.set('/registry/hosts/h1/c1', ID3),
    findings: () => [
      {
        kind: 'entry',
        key: C1,
        value: null,
        reason: `its hosts/ key /registry/hosts/h1/c1 names another container (${ID3})`,
        judgedOn: own('/registry/hosts/h1/c1'),
        deletes: [
          { prefix: C1 },
          { key: `/registry/labels/a/b/${ID1}` },
          { key: `/registry/labels/role/${ID1}` },
          { key: `/_registrator/owners/h1/mirror/registry/${ID1}` },
        ],
      },
      {
        kind: 'host-key',
        key: '/registry/hosts/h1/c1',
        value: ID3,
        reason: 'its entry\'s name is "c3", not "c1"',
        judgedOn: own(`${C3}name`),
        deletes: own('/registry/hosts/h1/c1'),
      },
    ],
  },
  {
    name: 'two entries of one host and name: the one its hosts/ key does not name',
    change: (t) => {
      for (const [key, value] of mirrorEntry(parseContainer(inspect({ Id: ID4, Name: '/c1' })), 'h1', layout))
        if (!key.startsWith('/registry/hosts/')) t.set(key, value);
    },
    findings: () => [
      {
        kind: 'entry',
        key: C4,
        value: null,
        reason: `its hosts/ key /registry/hosts/h1/c1 names another container (${ID1})`,
        judgedOn: own('/registry/hosts/h1/c1'),
        deletes: [{ prefix: C4 }, { key: `/_registrator/owners/h1/mirror/registry/${ID4}` }],
      },
    ],
  },
  {
    name: 'mirror index records of a missing entry, of an entry of another host, and not naming a container',
    change: (t) => {
      t.set(`/_registrator/owners/h1/mirror/registry/${GHOST}`, 'ghost');
      t.set(`/_registrator/owners/h2/mirror/registry/${ID1}`, 'c1');
      t.set('/_registrator/owners/h1/mirror/registry/c1', 'c1');
    },
    findings: () => [
      {
        kind: 'mirror-record',
        key: '/_registrator/owners/h1/mirror/registry/c1',
        value: 'c1',
        reason: 'is not /_registrator/owners/h1/mirror/registry/<id> with <id> a container id (64 hex)',
        judgedOn: [],
        deletes: own('/_registrator/owners/h1/mirror/registry/c1'),
      },
      {
        kind: 'mirror-record',
        key: `/_registrator/owners/h1/mirror/registry/${GHOST}`,
        value: 'ghost',
        reason: `its entry is missing (${layout.container(GHOST)} holds nothing)`,
        judgedOn: [{ prefix: layout.container(GHOST) }],
        deletes: own(`/_registrator/owners/h1/mirror/registry/${GHOST}`),
      },
      {
        kind: 'mirror-record',
        key: `/_registrator/owners/h2/mirror/registry/${ID1}`,
        value: 'c1',
        reason: 'its entry names host "h1"',
        judgedOn: own(`${C1}host`),
        deletes: own(`/_registrator/owners/h2/mirror/registry/${ID1}`),
      },
    ],
  },
  {
    name: 'registry records that are not the JSON of a service',
    change: (t) => {
      t.set('/_registrator/owners/h1/etcd/services/a', 'not json');
      t.set('/_registrator/owners/h1/etcd/services/b', '{"id":"x"}');
      t.set('/_registrator/owners/h1/hamesh/mesh/c', '[]');
    },
    findings: () => [
      {
        kind: 'registry-record',
        key: '/_registrator/owners/h1/etcd/services/a',
        value: 'not json',
        reason: `is not the JSON of a service (not JSON: ${jsonError('not json')})`,
        judgedOn: [],
        deletes: own('/_registrator/owners/h1/etcd/services/a'),
      },
      {
        kind: 'registry-record',
        key: '/_registrator/owners/h1/etcd/services/b',
        value: '{"id":"x"}',
        reason: 'is not the JSON of a service ("name" is not a string)',
        judgedOn: [],
        deletes: own('/_registrator/owners/h1/etcd/services/b'),
      },
      {
        kind: 'registry-record',
        key: '/_registrator/owners/h1/hamesh/mesh/c',
        value: '[]',
        reason: 'is not the JSON of a service (not a JSON object)',
        judgedOn: [],
        deletes: own('/_registrator/owners/h1/hamesh/mesh/c'),
      },
    ],
  },
  {
    name: 'a registry record whose service keys are all gone (one of several gone is no finding)',
    change: (t) => {
      t.delete(`/services/web/${web.id}`);
      t.delete(`/mesh/web/${web.id}/mode`);
    },
    findings: (t) => [
      {
        kind: 'registry-record',
        key: WEB_RECORD.etcd,
        value: t.get(WEB_RECORD.etcd)!,
        reason: `none of the keys of service "${web.id}" is in etcd:///services (/services/web/${web.id})`,
        judgedOn: own(`/services/web/${web.id}`),
        deletes: own(WEB_RECORD.etcd),
      },
    ],
  },
  {
    name: 'a registry record of a service the registry cannot hold',
    change: (t) => t.set('/_registrator/owners/h1/hamesh/mesh/odd', JSON.stringify({ ...web, attrs: { mode: 'bogus' } })),
    findings: (t) => [
      {
        kind: 'registry-record',
        key: '/_registrator/owners/h1/hamesh/mesh/odd',
        value: t.get('/_registrator/owners/h1/hamesh/mesh/odd')!,
        reason: `service "${web.id}" has no keys in hamesh:///mesh (it cannot be registered there)`,
        judgedOn: [],
        deletes: own('/_registrator/owners/h1/hamesh/mesh/odd'),
      },
    ],
  },
  {
    name: 'records of scopes not checked, and keys outside the mirror layout, are not judged',
    change: (t) => {
      t.set('/_registrator/owners/h1/etcd/other/x', 'not json');
      t.set(`/_registrator/owners/h1/mirror/elsewhere/${GHOST}`, 'ghost');
      t.set('/_registrator/owners/h1', 'x');
      t.set('/registry/containers/loose', 'x');
      t.set('/registry/other/key', 'x');
    },
    findings: () => [],
  },
];

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('check: the judges, table-driven', () => {
  it("a consistent tree (the product's own entries and registrations) gives no finding, and counts what it read", () => {
    const tree = consistentTree();
    const { findings, mirror, owners } = judge(tree);
    assert.deepEqual(findings, []);
    const mirrorKeys = [...tree.keys()].filter((k) => k.startsWith('/registry/'));
    assert.deepEqual(mirror, { keys: mirrorKeys.length, entries: 3, hostKeys: 3, labelKeys: 3, notChecked: 0 });
    assert.deepEqual(owners, {
      records: 7,
      mirrorRecords: 3,
      notChecked: 0,
      registries: [
        { registry: 'hamesh:///mesh', scope: 'hamesh/mesh', records: 2, serviceKeys: 6 },
        { registry: 'etcd:///services', scope: 'etcd/services', records: 2, serviceKeys: 2 },
      ],
    });
  });

  for (const c of CASES) {
    it(c.name, () => {
      const tree = consistentTree();
      c.change(tree);
      for (const pageSize of [1, 3, 1000]) assert.deepEqual(judge(tree, pageSize).findings, c.findings(tree), `page size ${pageSize}`);
    });
  }

  it('counts what is not judged', () => {
    const tree = consistentTree();
    CASES.at(-1)!.change(tree);
    const { mirror, owners } = judge(tree);
    assert.equal(mirror.notChecked, 2);
    assert.equal(owners.notChecked, 3);
  });

  it('refuses pages out of key order', () => {
    const judge = new MirrorJudge(layout);
    judge.page([[`/registry/labels/role/${ID1}`, 'web']]);
    assert.throws(() => judge.page([[`${C1}host`, 'h1']]), PageOrderError);
  });
});

describe('check: reading a registry record', () => {
  it('takes a service as the backends write it and names what is wrong otherwise', () => {
    assert.deepEqual(readServiceRecord(JSON.stringify(web)), { service: web });
    assert.deepEqual(readServiceRecord('{"id":"a","name":"b","ip":"c","port":"80","tags":[],"attrs":{},"origin":{}}'), {
      problem: '"port" is not a number',
    });
    assert.deepEqual(readServiceRecord('{"id":"a","name":"b","ip":"c","port":80,"tags":[],"attrs":{}}'), {
      problem: '"origin" is not an object',
    });
    assert.deepEqual(readServiceRecord('null'), { problem: 'not a JSON object' });
  });
});

describe('check --fix: the guarded transactions', () => {
  const R = '41';
  const unchanged = (key: string, prefixEnd?: string) => ({
    target: 'Mod',
    result: 'Less',
    mod_revision: '42',
    key: Buffer.from(key),
    ...(prefixEnd ? { range_end: Buffer.from(prefixEnd) } : {}),
  });

  it("one transaction: every key and range judged on and deleted must be unchanged since the check's revision", () => {
    const finding: Finding = {
      kind: 'label-key',
      key: `/registry/labels/role/${GHOST}`,
      value: 'web',
      reason: noEntry(GHOST),
      judgedOn: [{ prefix: layout.container(GHOST) }],
      deletes: own(`/registry/labels/role/${GHOST}`),
    };
    assert.deepEqual(fixTxns(finding, R), [
      {
        compare: [unchanged(layout.container(GHOST), `/registry/containers/${GHOST}0`), unchanged(`/registry/labels/role/${GHOST}`)],
        success: [{ request_delete_range: { key: Buffer.from(`/registry/labels/role/${GHOST}`) } }],
      },
    ]);
  });

  it('an entry with more labels/ keys than one transaction takes: shares of them under the same guard, the entry last', () => {
    const labelKeys = Array.from({ length: 300 }, (_, i) => ({ key: `/registry/labels/l${i}/${ID1}` }));
    const finding: Finding = {
      kind: 'entry',
      key: C1,
      value: null,
      reason: 'r',
      judgedOn: own('/registry/hosts/h1/c1'),
      deletes: [{ prefix: C1 }, ...labelKeys, { key: `/_registrator/owners/h1/mirror/registry/${ID1}` }],
    };
    const txns = fixTxns(finding, R);
    assert.equal(txns.length, 4);
    const guard = [unchanged('/registry/hosts/h1/c1'), unchanged(C1, `/registry/containers/${ID1}0`)];
    for (const txn of txns) {
      assert.ok(txn.compare!.length <= MAX_TXN_OPS && txn.success!.length <= MAX_TXN_OPS);
      assert.deepEqual(txn.compare!.slice(0, 2), guard);
      // Each share is compared and deleted in the same transaction.
      assert.deepEqual(
        txn.compare!.slice(2).map((c) => c.key!.toString()),
        txn.success!.slice(txn === txns.at(-1) ? 1 : 0).map((op) => op.request_delete_range!.key!.toString()),
      );
    }
    assert.deepEqual(txns.at(-1)!.success, [
      { request_delete_range: { key: Buffer.from(C1), range_end: Buffer.from(`/registry/containers/${ID1}0`) } },
    ]);
    const deleted = txns.flatMap((t) => t.success!.map((op) => op.request_delete_range!.key!.toString()));
    assert.deepEqual(deleted.sort(), finding.deletes.map((d) => ('key' in d ? d.key : d.prefix)).sort());
  });
});

describe('check: text output', () => {
  it('one line per finding, with what --fix did, then a summary per etcd and the registries not checked', () => {
    const report: CheckReport = {
      fix: true,
      stores: [
        {
          etcd: 'http://127.0.0.1:2379',
          revision: '812',
          pages: 3,
          mirror: { prefix: '/registry/', keys: 40, entries: 2, hostKeys: 1, labelKeys: 3, notChecked: 0 },
          owners: {
            prefix: '/_registrator/owners/',
            records: 6,
            mirrorRecords: 2,
            notChecked: 1,
            registries: [{ registry: 'etcd:///services', scope: 'etcd/services', records: 3, serviceKeys: 3 }],
          },
          claims: { prefix: '/_registrator/hosts/', claims: 4, leased: 3 },
          findings: [
            { kind: 'entry', key: C1, value: null, reason: 'has no host key', judgedOn: [], deletes: [{ prefix: C1 }], fix: 'deleted' },
            {
              kind: 'label-key',
              key: `/registry/labels/role/${GHOST}`,
              value: 'a\nb',
              reason: noEntry(GHOST),
              judgedOn: [],
              deletes: [],
              fix: 'kept',
            },
          ],
        },
      ],
      notCovered: [{ registry: 'consul://', reason: 'not checked: check reads only the etcd-based registries (hamesh, etcd, skydns2)' }],
      findings: 2,
      deleted: 1,
      kept: 1,
    };
    assert.equal(
      formatCheck(report),
      [
        `entry ${C1}: has no host key: deleted`,
        `label-key /registry/labels/role/${GHOST} = a\\u000ab: ${noEntry(GHOST)}: kept: changed since the check`,
        'etcd http://127.0.0.1:2379 at revision 812: read /registry/ 40 keys (2 entries, 1 hosts/ key, 3 labels/ keys, 0 not checked) and /_registrator/owners/ 6 records (2 mirror, 3 etcd:///services, 1 not checked) and /_registrator/hosts/ 4 host-name claims (3 leased) in 3 pages: 2 findings, 1 deleted, 1 kept',
        'consul://: not checked: check reads only the etcd-based registries (hamesh, etcd, skydns2)',
      ].join('\n'),
    );
  });
});
