import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyOp } from '../../src/etcd/key-ops';
import { hameshKeys, hameshServicePrefix } from '../../src/hamesh/layout';
import { HameshPortClaims, judgeClaims } from '../../src/hamesh/port-claims';
import { changeOps, HeldRecord, KeyLayout, RecordBook } from '../../src/registrator/registration-ops';
import type { Service, ServiceAction } from '../../src/registrator/service';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const OWNERS = '/_registrator/owners/h1/hamesh/mesh/';

function service(o: { id?: string; container?: string; ip?: string; port?: number; domains?: string; mode?: string } = {}): Service {
  return {
    id: o.id ?? 'h1:web:80',
    name: 'web',
    port: o.port ?? 8080,
    ip: o.ip ?? '10.0.0.5',
    tags: [],
    attrs: { ...(o.mode ? { mode: o.mode } : {}), ...(o.domains ? { domains: o.domains } : {}) },
    origin: {
      containerId: o.container ?? A,
      containerName: 'web',
      hostPort: o.port ?? 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'web',
    },
  };
}

const hamesh: KeyLayout = { root: '/mesh/', entries: (s) => hameshKeys('mesh', s), tree: (s) => hameshServicePrefix('mesh', s) };
const etcdKv: KeyLayout = { root: '/services/', entries: (s) => [[`/services/${s.name}/${s.id}`, `${s.ip}:${s.port}`]] };

/** Records filed per container and service; `held` maps a record key to what this host holds there. */
function book(prefix: string, held: Record<string, HeldRecord> = {}): RecordBook {
  const keyOf = (s: Service) => `${prefix}${s.origin.containerId}/${encodeURIComponent(s.id)}`;
  return { keyOf, held: (s) => held[keyOf(s)] };
}

const web = service();
const webMoved = service({ ip: '10.0.0.9', port: 9090 });
const webHttp = service({ mode: 'http', domains: 'a.com,b.com' });
const webHttpOneDomain = service({ mode: 'http', domains: 'a.com' });
const recordA = `${OWNERS}${A}/${encodeURIComponent('h1:web:80')}`;
const held = (revision: string, recordKey = recordA): Record<string, HeldRecord> => ({ [recordA]: { recordKey, revision } });
const tree = '/mesh/web/h1:web:80/';
const guard = (revision: string) => ({ key: `${tree}address`, modRevision: revision });
const put = (key: string, value: string): KeyOp => ({ put: key, value, lease: undefined });

const cases: Array<{
  name: string;
  layout: KeyLayout;
  held?: Record<string, HeldRecord>;
  actions: ServiceAction[];
  puts: KeyOp[];
  deletes: KeyOp[];
}> = [
  {
    name: 'a new service: its keys, guard key and record first, in one transaction',
    layout: hamesh,
    actions: [{ kind: 'register', service: web }],
    puts: [put(`${tree}address`, '10.0.0.5'), put(recordA, JSON.stringify(web)), put(`${tree}port`, '8080'), put(`${tree}mode`, 'tcp')],
    deletes: [],
  },
  {
    name: "a removed service: its tree only while its guard key holds this host's write, and its record",
    layout: hamesh,
    held: held('42'),
    actions: [{ kind: 'deregister', service: web }],
    puts: [],
    deletes: [{ deletePrefix: tree, ifRevision: guard('42') }, { delete: recordA }],
  },
  {
    name: 'a removed service this host holds no revision for: only its record goes (revision 0 matches no key)',
    layout: hamesh,
    actions: [{ kind: 'deregister', service: web }],
    puts: [],
    deletes: [{ deletePrefix: tree, ifRevision: guard('0') }, { delete: recordA }],
  },
  {
    name: 'a changed service, same ID: written over in place, nothing deleted, never missing',
    layout: hamesh,
    held: held('42'),
    actions: [
      { kind: 'deregister', service: web },
      { kind: 'register', service: webMoved },
    ],
    puts: [
      put(`${tree}address`, '10.0.0.9'),
      put(recordA, JSON.stringify(webMoved)),
      put(`${tree}port`, '9090'),
      put(`${tree}mode`, 'tcp'),
    ],
    deletes: [],
  },
  {
    name: 'a domain dropped: the new keys written, the dropped one deleted under the old guard, same transaction',
    layout: hamesh,
    held: held('42'),
    actions: [
      { kind: 'deregister', service: webHttp },
      { kind: 'register', service: webHttpOneDomain },
    ],
    puts: [
      put(`${tree}address`, '10.0.0.5'),
      put(recordA, JSON.stringify(webHttpOneDomain)),
      put(`${tree}port`, '8080'),
      put(`${tree}mode`, 'http'),
      put(`${tree}domains/a.com`, 'a.com'),
    ],
    deletes: [{ delete: `${tree}domains/b.com`, ifRevision: guard('42') }],
  },
  {
    name: "etcd://: one key, deleted only while the host's write holds",
    layout: etcdKv,
    held: {
      [`/_registrator/owners/h1/etcd/services/${A}/h1%3Aweb%3A80`]: {
        recordKey: `/_registrator/owners/h1/etcd/services/${A}/h1%3Aweb%3A80`,
        revision: '7',
      },
    },
    actions: [{ kind: 'deregister', service: web }],
    puts: [],
    deletes: [
      { delete: '/services/web/h1:web:80', ifRevision: { key: '/services/web/h1:web:80', modRevision: '7' } },
      { delete: `/_registrator/owners/h1/etcd/services/${A}/h1%3Aweb%3A80` },
    ],
  },
  {
    name: "two containers with one SERVICE_ID have two records; removing one leaves the other's",
    layout: hamesh,
    held: held('42'),
    actions: [{ kind: 'register', service: service({ container: B }) }],
    puts: [
      put(`${tree}address`, '10.0.0.5'),
      put(`${OWNERS}${B}/h1%3Aweb%3A80`, JSON.stringify(service({ container: B }))),
      put(`${tree}port`, '8080'),
      put(`${tree}mode`, 'tcp'),
    ],
    deletes: [],
  },
];

describe("changeOps: one container's steps as one transaction of puts and guarded deletes", () => {
  for (const c of cases) {
    it(c.name, () => {
      const records = book(c.layout === hamesh ? OWNERS : '/_registrator/owners/h1/etcd/services/', c.held);
      assert.deepEqual(changeOps(c.layout, records, c.actions), { puts: c.puts, deletes: c.deletes });
    });
  }

  it('a record filed by an earlier version under the service ID alone moves to its per-container key', () => {
    const old = `${OWNERS}h1%3Aweb%3A80`;
    const records: RecordBook = {
      keyOf: (s) => `${OWNERS}${s.origin.containerId}/${encodeURIComponent(s.id)}`,
      held: () => ({ recordKey: old, revision: '5' }),
    };
    const { puts, deletes } = changeOps(hamesh, records, [{ kind: 'rewrite', service: web }]);
    assert.ok(puts.some((op) => 'put' in op && op.put === recordA));
    assert.deepEqual(deletes, [{ delete: old }]);
  });

  it('a port claim: the claim filed always, the port key only while the claim wins; a lost port this host wrote is deleted under its guard', () => {
    const claiming: KeyLayout = { ...hamesh, claims: new HameshPortClaims('mesh') };
    const db = { ...service(), attrs: { external_port: '5432' } };
    const claimKey = '/_registrator/claims/hamesh/mesh/external_port/5432/web%2Fh1%3Aweb%3A80';
    const won = changeOps(claiming, book(OWNERS), [{ kind: 'register', service: db }], { verdict: { lost: new Set(), value: 'h1' } });
    assert.deepEqual(won.puts.slice(-2), [put(claimKey, 'h1'), put(`${tree}external_port`, '5432')]);
    const lost = changeOps(claiming, book(OWNERS, held('42')), [{ kind: 'rewrite', service: db }], {
      verdict: { lost: new Set([claimKey]), value: 'h1' },
    });
    assert.deepEqual(lost.puts.slice(-1), [put(claimKey, 'h1')]);
    assert.deepEqual(lost.deletes, [{ delete: `${tree}external_port`, ifRevision: guard('42') }]);
    const gone = changeOps(claiming, book(OWNERS, held('42')), [{ kind: 'deregister', service: db }]);
    assert.deepEqual(gone.deletes, [
      { deletePrefix: tree, ifRevision: guard('42') },
      { delete: claimKey, ifRevision: guard('42') },
      { delete: recordA },
    ]);
  });

  it('judgeClaims: the claim whose name/id sorts first keeps the port, whoever filed first', () => {
    const range = '/_registrator/claims/hamesh/mesh/external_port/5432/';
    const claim = (nameId: string) => ({
      range,
      key: `${range}${encodeURIComponent(nameId)}`,
      entry: ['/mesh/x/port', '5432'] as [string, string],
      what: 'SERVICE_EXTERNAL_PORT 5432',
    });
    const [b, a] = [claim('db/h2:db:5432'), claim('api/h1:api:5432')];
    const filed = new Map([[range, [b.key]]]);
    assert.deepEqual(Object.fromEntries(judgeClaims([b, a], filed)), {
      [b.key]: { wins: false, holder: 'api/h1:api:5432', others: ['api/h1:api:5432'] },
      [a.key]: { wins: true, holder: 'api/h1:api:5432', others: ['db/h2:db:5432'] },
    });
    assert.deepEqual(Object.fromEntries(judgeClaims([b], new Map())), { [b.key]: { wins: true, holder: 'db/h2:db:5432', others: [] } });
  });

  it('under -ttl a refresh writes nothing (the lease is kept alive instead)', () => {
    assert.deepEqual(changeOps(hamesh, book(OWNERS), [{ kind: 'refresh', service: web, previous: web }], { leased: true }), {
      puts: [],
      deletes: [],
    });
  });
});
