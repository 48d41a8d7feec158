import { noop } from 'cockatiel';
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { EtcdLeaseInvalidError, GRPCUnavailableError, type Etcd3 } from 'etcd3';
import { atomicLimitExceeded } from '../../src/etcd/key-ops';
import type { BackendContext } from '../../src/registrator/backend';
import { createEtcdBackend } from '../../src/registrator/backends/etcd';
import { createHameshBackend } from '../../src/registrator/backends/hamesh';
import { createSkydns2Backend } from '../../src/registrator/backends/skydns2';
import type { EtcdKvBackend } from '../../src/registrator/etcd-kv-backend';
import { parseRegistryUri } from '../../src/registrator/schemes';
import type { Service, ServiceAction } from '../../src/registrator/service';
import { silentLogger } from '../support/log';
import { MemoryEtcd } from '../support/memory-etcd';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** The one place test services are made: a `Service` as the model gives it, for container `containerId`. */
function service(
  o: { name?: string; id?: string; containerId?: string; ip?: string; port?: number; attrs?: Record<string, string> } = {},
): Service {
  const name = o.name ?? 'web';
  return {
    id: o.id ?? `h1:${name}:80`,
    name,
    port: o.port ?? 8080,
    ip: o.ip ?? '10.0.0.5',
    tags: [],
    attrs: o.attrs ?? {},
    origin: {
      containerId: o.containerId ?? A,
      containerName: name,
      hostPort: o.port ?? 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: name,
    },
  };
}

const register = (s: Service): ServiceAction => ({ kind: 'register', service: s });
const rewrite = (s: Service): ServiceAction => ({ kind: 'rewrite', service: s });
const deregister = (s: Service): ServiceAction => ({ kind: 'deregister', service: s });

/** The ownership record of `s` filed by `host` in `scope`, and its value. */
const recordKey = (host: string, scope: string, s: Service) =>
  `/_registrator/owners/${host}/${scope}/${s.origin.containerId}/${encodeURIComponent(s.id)}`;
const record = (host: string, scope: string, s: Service): Record<string, string> => ({ [recordKey(host, scope, s)]: JSON.stringify(s) });

type Factory = typeof createEtcdBackend;

/** The etcd registry core (EtcdKvBackend) on the in-memory etcd, through the backends' own factories. */
describe('the etcd registry core on etcd', () => {
  let memory: MemoryEtcd;
  let etcd: Etcd3;
  let calls = 0;
  const backends: EtcdKvBackend[] = [];

  /** The transactions since the test began that write (reads are transactions of ranges too), as the keys each puts and deletes. */
  const writes = (): Array<{ puts: string[]; deletes: string[] }> =>
    (memory.callsOf('KV.Txn', calls) as TxnRequest[]).map(flatten).filter((t) => t.puts.length + t.deletes.length > 0);

  function backend(
    uri: string,
    make: Factory,
    o: { host?: string; ttl?: { ttlSeconds: number; refreshSeconds: number }; requestReconcile?: (reason: string) => void } = {},
  ): EtcdKvBackend {
    const context: BackendContext = {
      host: o.host ?? 'h1',
      etcdFor: () => ({ client: etcd, shared: true }),
      ttl: o.ttl,
      requestReconcile: o.requestReconcile ?? (() => undefined),
      log: silentLogger,
    };
    const b = make(parseRegistryUri(uri), context) as EtcdKvBackend;
    backends.push(b);
    return b;
  }
  const etcdBackend = (o: Parameters<typeof backend>[2] = {}) => backend('etcd:///services', createEtcdBackend, o);
  const meshBackend = (o: Parameters<typeof backend>[2] = {}) => backend('hamesh:///mesh', createHameshBackend, o);

  before(async () => {
    memory = await MemoryEtcd.start();
    // No retries: a refusal reaches the core as etcd gave it.
    etcd = memory.client({ faultHandling: { host: () => noop, global: noop } });
  });
  after(() => memory.stop());
  beforeEach(async () => {
    await etcd.delete().all();
    calls = memory.calls.length;
  });
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.close();
  });

  describe('apply', () => {
    it('etcd://: a container registered, changed and removed, each in one transaction; keys, values and records exact', async () => {
      const b = etcdBackend();
      await b.load();
      const web = service();
      const tls = service({ id: 'h1:web:443', port: 8443 });
      await b.apply([register(web), register(tls)]);
      assert.deepEqual(memory.tree(), {
        '/services/web/h1:web:443': '10.0.0.5:8443',
        '/services/web/h1:web:80': '10.0.0.5:8080',
        ...record('h1', 'etcd/services', web),
        ...record('h1', 'etcd/services', tls),
      });
      assert.deepEqual(writes(), [
        {
          puts: [
            '/services/web/h1:web:80',
            recordKey('h1', 'etcd/services', web),
            '/services/web/h1:web:443',
            recordKey('h1', 'etcd/services', tls),
          ],
          deletes: [],
        },
      ]);
      assert.deepEqual([...b.book.servicesOf(A).keys()], ['h1:web:80', 'h1:web:443']);
      assert.equal(b.book.find(web, recordKey('h1', 'etcd/services', web))?.revision, String(memory.currentRevision));

      // The container's IP changed and its port 443 went: the old form out, the new one in, one transaction.
      calls = memory.calls.length;
      const moved = service({ ip: '10.0.0.9' });
      await b.apply([deregister(web), register(moved), deregister(tls)]);
      assert.deepEqual(memory.tree(), { '/services/web/h1:web:80': '10.0.0.9:8080', ...record('h1', 'etcd/services', moved) });
      assert.deepEqual(writes(), [
        {
          puts: ['/services/web/h1:web:80', recordKey('h1', 'etcd/services', moved)],
          deletes: ['/services/web/h1:web:443', recordKey('h1', 'etcd/services', tls)],
        },
      ]);
      assert.deepEqual([...b.book.servicesOf(A).values()], [moved]);

      calls = memory.calls.length;
      await b.apply([deregister(moved)]);
      assert.deepEqual(memory.tree(), {});
      assert.equal(writes().length, 1);
      assert.equal(b.book.size, 0);
    });

    it('skydns2://: the CoreDNS record under the reversed domain, with its ownership record', async () => {
      const b = backend('skydns2:///skydns.local', createSkydns2Backend);
      const web = service({ attrs: { priority: '10', text: 'hi' } });
      await b.apply([register(web)]);
      assert.deepEqual(memory.tree(), {
        '/skydns/local/skydns/web/h1:web:80': '{"host":"10.0.0.5","port":8080,"priority":10,"text":"hi"}',
        ...record('h1', 'skydns2/skydns.local', web),
      });
      assert.equal(writes().length, 1);
    });

    it('hamesh://: one tree per service; a changed service rewrites its tree and deletes the keys it no longer has', async () => {
      const b = meshBackend();
      const web = service({ attrs: { mode: 'http', domains: 'a.example,b.example' } });
      await b.apply([register(web)]);
      const tree = '/mesh/web/h1:web:80/';
      assert.deepEqual(memory.tree(), {
        [`${tree}address`]: '10.0.0.5',
        [`${tree}domains/a.example`]: 'a.example',
        [`${tree}domains/b.example`]: 'b.example',
        [`${tree}mode`]: 'http',
        [`${tree}port`]: '8080',
        ...record('h1', 'hamesh/mesh', web),
      });
      calls = memory.calls.length;
      const changed = service({ attrs: { mode: 'http', domains: 'a.example' } });
      await b.apply([deregister(web), register(changed)]);
      assert.deepEqual(memory.tree(), {
        [`${tree}address`]: '10.0.0.5',
        [`${tree}domains/a.example`]: 'a.example',
        [`${tree}mode`]: 'http',
        [`${tree}port`]: '8080',
        ...record('h1', 'hamesh/mesh', changed),
      });
      assert.deepEqual(writes(), [
        {
          puts: [`${tree}address`, recordKey('h1', 'hamesh/mesh', changed), `${tree}port`, `${tree}mode`, `${tree}domains/a.example`],
          deletes: [`${tree}domains/b.example`],
        },
      ]);
    });
  });

  describe('guards', () => {
    it("another host's later registration of the same key: taken over on load, and not deleted by this host's deregister", async () => {
      const h1 = etcdBackend();
      const h2 = etcdBackend({ host: 'h2' });
      const mine = service({ id: 'web-1' });
      const theirs = service({ id: 'web-1', containerId: B, ip: '10.0.0.7' });
      await h1.apply([register(mine)]);
      await h2.apply([register(theirs)]);
      assert.deepEqual(await h1.owned(), [{ service: mine, intact: true, takenOver: true }]);
      calls = memory.calls.length;
      await h1.apply([deregister(mine)]);
      assert.equal(writes().length, 1);
      assert.deepEqual(memory.tree(), { '/services/web/web-1': '10.0.0.7:8080', ...record('h2', 'etcd/services', theirs) });
      assert.deepEqual(await h2.owned(), [{ service: theirs, intact: true, takenOver: false }]);
    });

    it('a record whose keys were edited or deleted reads back as not intact (an edited guard key reads as taken over)', async () => {
      const b = meshBackend();
      const web = service({ attrs: { mode: 'tcp' } });
      const db = service({ name: 'db', id: 'h1:db:80', containerId: B });
      await b.apply([register(web)]);
      await b.apply([register(db)]);
      await etcd.put('/mesh/web/h1:web:80/port').value('9999');
      await etcd.delete().key('/mesh/db/h1:db:80/mode');
      const again = meshBackend();
      assert.deepEqual(await again.owned(), [
        { service: web, intact: false, takenOver: false },
        { service: db, intact: false, takenOver: false },
      ]);
      // The guard (the first key) written after the record: as another registration's, left alone.
      await etcd.put('/mesh/web/h1:web:80/address').value('10.9.9.9');
      assert.deepEqual((await again.owned())[0], { service: web, intact: true, takenOver: true });
    });
  });

  describe('hamesh port claims', () => {
    const CLAIMS = '/_registrator/claims/hamesh/mesh/external_port/5432/';
    const api = service({ name: 'api', id: 'h1:api:80', attrs: { external_port: '5432' } });
    const db = service({ name: 'db', id: 'h1:db:80', containerId: B, attrs: { external_port: '5432' } });
    const meshTree = (s: Service, port?: string): Record<string, string> => ({
      [`/mesh/${s.name}/${s.id}/address`]: '10.0.0.5',
      ...(port ? { [`/mesh/${s.name}/${s.id}/external_port`]: port } : {}),
      [`/mesh/${s.name}/${s.id}/mode`]: 'tcp',
      [`/mesh/${s.name}/${s.id}/port`]: '8080',
    });

    it('two services claiming one port: the first in byte order writes it, the other goes without; once it leaves, the other takes it', async () => {
      const b = meshBackend();
      await b.apply([register(api)]);
      await b.apply([register(db)]);
      const claims = { [`${CLAIMS}api%2Fh1%3Aapi%3A80`]: 'h1', [`${CLAIMS}db%2Fh1%3Adb%3A80`]: 'h1' };
      assert.deepEqual(memory.tree('/mesh/'), { ...meshTree(api, '5432'), ...meshTree(db) });
      assert.deepEqual(memory.tree('/_registrator/claims/'), claims);
      assert.deepEqual(await b.owned(), [
        { service: api, intact: true, takenOver: false },
        { service: db, intact: true, takenOver: false },
      ]);

      calls = memory.calls.length;
      await b.apply([deregister(api)]);
      assert.deepEqual(memory.tree('/_registrator/claims/'), { [`${CLAIMS}db%2Fh1%3Adb%3A80`]: 'h1' });
      assert.deepEqual(memory.tree('/mesh/'), meshTree(db));
      // The holder gone, db's record no longer holds as judged: its rewrite takes the port.
      assert.deepEqual(await b.owned(), [{ service: db, intact: false, takenOver: false }]);
      await b.apply([rewrite(db)]);
      assert.deepEqual(memory.tree('/mesh/'), meshTree(db, '5432'));
      assert.deepEqual(await b.owned(), [{ service: db, intact: true, takenOver: false }]);
      assert.deepEqual(memory.tree('/_registrator/owners/'), record('h1', 'hamesh/mesh', db));
    });

    it('the later claimant that sorts first takes the port; the earlier holder, rewritten, deletes its own port key', async () => {
      const b = meshBackend();
      await b.apply([register(db)]);
      assert.deepEqual(memory.tree('/mesh/'), meshTree(db, '5432'));
      await b.apply([register(api)]);
      assert.deepEqual(memory.tree('/mesh/'), { ...meshTree(api, '5432'), ...meshTree(db, '5432') });
      assert.deepEqual((await b.owned())[1], { service: db, intact: false, takenOver: false });
      calls = memory.calls.length;
      await b.apply([rewrite(db)]);
      assert.deepEqual(memory.tree('/mesh/'), { ...meshTree(api, '5432'), ...meshTree(db) });
      assert.equal(writes().length, 1);
    });
  });

  describe('lease loss', () => {
    it('-ttl: the lease expired -> the next apply fails with the lease error, asks for a reconcile, and the book is as before', async () => {
      let reconcile!: (reason: string) => void;
      const asked = new Promise<string>((resolve) => (reconcile = resolve));
      const b = etcdBackend({ ttl: { ttlSeconds: 10, refreshSeconds: 5 }, requestReconcile: (reason) => reconcile(reason) });
      const web = service();
      await b.apply([register(web)]);
      const [granted] = memory.callsOf('Lease.LeaseGrant', calls) as Array<{ TTL: string }>;
      assert.equal(String(granted.TTL), '10');
      const lease = (await etcd.get('/services/web/h1:web:80').exec()).kvs[0].lease.toString();
      assert.notEqual(lease, '0');
      assert.deepEqual(await b.owned(), [{ service: web, intact: true, takenOver: false }]);
      const revision = b.book.find(web, recordKey('h1', 'etcd/services', web))?.revision;

      memory.advance(11_000);
      assert.deepEqual(memory.tree(), {}, 'the lease took its keys');
      const db = service({ name: 'db', id: 'h1:db:80' });
      await assert.rejects(b.apply([register(db), rewrite(web)]), EtcdLeaseInvalidError);
      assert.equal(await asked, `lease of etcd:///services lost: etcd refused a write under lease ${lease}`);
      assert.deepEqual([...b.book.servicesOf(A).values()], [web]);
      assert.equal(b.book.find(web, recordKey('h1', 'etcd/services', web))?.revision, revision);
      assert.deepEqual(memory.tree(), {});

      // The record was held by the lease too: the reconcile finds nothing and writes again under a new lease.
      assert.deepEqual(await b.owned(), []);
      assert.equal(b.book.size, 0);
      await b.apply([register(web), register(db)]);
      assert.deepEqual(memory.tree(), {
        '/services/db/h1:db:80': '10.0.0.5:8080',
        '/services/web/h1:web:80': '10.0.0.5:8080',
        ...record('h1', 'etcd/services', web),
        ...record('h1', 'etcd/services', db),
      });
      const renewed = (await etcd.get('/services/web/h1:web:80').exec()).kvs[0].lease.toString();
      assert.notEqual(renewed, lease);
      assert.deepEqual(await b.owned(), [
        { service: db, intact: true, takenOver: false },
        { service: web, intact: true, takenOver: false },
      ]);
    });

    it('-ttl: the lease revoked -> the next write fails with the lease error and asks for a reconcile once; a deregistration needs no lease', async () => {
      const reasons: string[] = [];
      let reconcile!: () => void;
      const asked = new Promise<void>((resolve) => (reconcile = resolve));
      const b = etcdBackend({
        ttl: { ttlSeconds: 10, refreshSeconds: 5 },
        requestReconcile: (reason) => {
          reasons.push(reason);
          reconcile();
        },
      });
      const web = service();
      const db = service({ name: 'db', id: 'h1:db:80' });
      await b.apply([register(web)]);
      const lease = (await etcd.get('/services/web/h1:web:80').exec()).kvs[0].lease.toString();
      await etcd.leaseClient.leaseRevoke({ ID: lease });
      await assert.rejects(b.apply([register(db)]), EtcdLeaseInvalidError);
      await asked;
      assert.deepEqual(reasons, [`lease of etcd:///services lost: etcd refused a write under lease ${lease}`]);
      assert.deepEqual(b.book.services(), [web]);
      calls = memory.calls.length;
      await b.apply([deregister(web)]);
      assert.deepEqual(memory.callsOf('Lease.LeaseGrant', calls), [], 'no lease taken to delete');
      assert.deepEqual(memory.tree(), {});
      assert.equal(b.book.size, 0);
    });

    it('-ttl: a commit etcd does not answer fails as it came, the book as before, no reconcile asked; the next one writes under the same lease', async () => {
      const reasons: string[] = [];
      const b = etcdBackend({ ttl: { ttlSeconds: 10, refreshSeconds: 5 }, requestReconcile: (reason) => reasons.push(reason) });
      const web = service();
      await b.apply([register(web)]);
      const lease = (await etcd.get('/services/web/h1:web:80').exec()).kvs[0].lease.toString();
      const moved = service({ ip: '10.0.0.9' });
      memory.failNext('KV.Txn', status.UNAVAILABLE, 'connection refused');
      await assert.rejects(b.apply([deregister(web), register(moved)]), GRPCUnavailableError);
      assert.deepEqual(b.book.services(), [web]);
      assert.deepEqual(memory.tree(), { '/services/web/h1:web:80': '10.0.0.5:8080', ...record('h1', 'etcd/services', web) });
      await b.apply([deregister(web), register(moved)]);
      assert.deepEqual(memory.tree(), { '/services/web/h1:web:80': '10.0.0.9:8080', ...record('h1', 'etcd/services', moved) });
      assert.equal((await etcd.get('/services/web/h1:web:80').exec()).kvs[0].lease.toString(), lease);
      assert.deepEqual(b.book.services(), [moved]);
      assert.deepEqual(reasons, []);
    });

    it('-ttl: a key held by an earlier lease (another daemon run) reads back as not intact', async () => {
      const first = etcdBackend({ ttl: { ttlSeconds: 30, refreshSeconds: 10 } });
      const web = service();
      await first.apply([register(web)]);
      const second = etcdBackend({ ttl: { ttlSeconds: 30, refreshSeconds: 10 } });
      assert.deepEqual(await second.owned(), [{ service: web, intact: false, takenOver: false }]);
    });
  });

  describe("past etcd's limits", () => {
    // 20 services of ~100 KiB each: 2 MiB, past etcd's 1.5 MiB a request.
    const big = (id: string, containerId = A) => service({ name: 'big', id, containerId, attrs: { note: id.padEnd(100 * 1024, '.') } });

    it('a container past 1.5 MiB: the puts split keeping each guard key with its record, then the deletes; the tree exact', async () => {
      const b = etcdBackend();
      const first = Array.from({ length: 20 }, (_, i) => big(`h1:big:${i}`));
      await b.apply(first.map(register));
      const expected = (services: Service[]) =>
        Object.fromEntries(
          services.flatMap((s) => [
            [`/services/big/${s.id}`, '10.0.0.5:8080'],
            [recordKey('h1', 'etcd/services', s), JSON.stringify(s)],
          ]),
        );
      // The keys first: a diff of 2 MiB of values says nothing more.
      assert.deepEqual(Object.keys(memory.tree()), Object.keys(expected(first)).sort());
      assert.deepEqual(memory.tree(), expected(first));
      const txns = writes();
      assert.ok(txns.length > 1, `split: ${txns.length} transactions`);
      for (const s of first) {
        const t = txns.find((x) => x.puts.includes(`/services/big/${s.id}`));
        assert.ok(t?.puts.includes(recordKey('h1', 'etcd/services', s)), `${s.id}: key and record in one transaction`);
      }
      assert.deepEqual(
        txns.flatMap((t) => t.puts),
        first.flatMap((s) => [`/services/big/${s.id}`, recordKey('h1', 'etcd/services', s)]),
      );
      assert.equal(atomicLimitExceeded(b.changeOps(first.map(register)).puts) !== undefined, true);

      // Renamed: 20 new IDs in, the 20 old ones out, the deletes after every put.
      calls = memory.calls.length;
      const second = Array.from({ length: 20 }, (_, i) => big(`h1:renamed:${i}`));
      await b.apply([...first.map(deregister), ...second.map(register)]);
      // The keys first: a diff of 2 MiB of values says nothing more.
      assert.deepEqual(Object.keys(memory.tree()), Object.keys(expected(second)).sort());
      assert.deepEqual(memory.tree(), expected(second));
      const renamed = writes();
      const lastPut = renamed.map((t) => t.puts.length > 0).lastIndexOf(true);
      const firstDelete = renamed.findIndex((t) => t.deletes.length > 0);
      assert.ok(lastPut < firstDelete, 'no service missing in between');
      assert.equal(renamed.flatMap((t) => t.deletes).length, 40);
      assert.deepEqual(b.book.services(), second);
    });

    it('more than 128 ops in one container stay one transaction', async () => {
      const b = etcdBackend();
      const many = Array.from({ length: 100 }, (_, i) => service({ id: `h1:web:${i}` }));
      await b.apply(many.map(register));
      assert.equal(writes().length, 1);
      assert.equal(Object.keys(memory.tree()).length, 200);
    });
  });

  describe('load after restart', () => {
    it('a new backend over the same etcd reloads exactly what the first wrote, and can remove it', async () => {
      const first = meshBackend();
      const web = service({ attrs: { mode: 'http', domains: 'a.example' } });
      const db = service({ name: 'db', id: 'db-custom', containerId: B, attrs: { external_port: '5432' } });
      await first.apply([register(web)]);
      await first.apply([register(db)]);
      const written = memory.tree();
      const revisions = [web, db].map((s) => first.book.find(s, recordKey('h1', 'hamesh/mesh', s))?.revision);

      const second = meshBackend();
      assert.deepEqual(await second.load(), {
        owned: [
          { service: web, intact: true, takenOver: false },
          { service: db, intact: true, takenOver: false },
        ],
        unreadable: [],
      });
      assert.deepEqual(second.book.services(), [web, db]);
      assert.deepEqual(
        [web, db].map((s) => second.book.find(s, recordKey('h1', 'hamesh/mesh', s))?.revision),
        revisions,
      );
      assert.deepEqual(memory.tree(), written, 'loading writes nothing');
      await second.apply([deregister(web)]);
      await second.apply([deregister(db)]);
      assert.deepEqual(memory.tree(), {});
    });

    it("an earlier version's record, filed under the service ID alone, is loaded, and moves to its per-container key on the next write", async () => {
      const web = service();
      const old = '/_registrator/owners/h1/etcd/services/h1%3Aweb%3A80';
      await etcd.put('/services/web/h1:web:80').value('10.0.0.5:8080');
      await etcd.put(old).value(JSON.stringify(web));
      const b = etcdBackend();
      assert.deepEqual(await b.load(), { owned: [{ service: web, intact: true, takenOver: false }], unreadable: [] });
      assert.equal(b.book.find(web, recordKey('h1', 'etcd/services', web))?.recordKey, old);
      calls = memory.calls.length;
      await b.apply([rewrite(web)]);
      assert.deepEqual(writes(), [{ puts: ['/services/web/h1:web:80', recordKey('h1', 'etcd/services', web)], deletes: [old] }]);
      assert.deepEqual(memory.tree(), { '/services/web/h1:web:80': '10.0.0.5:8080', ...record('h1', 'etcd/services', web) });
      assert.equal(b.book.find(web, recordKey('h1', 'etcd/services', web))?.recordKey, recordKey('h1', 'etcd/services', web));
    });

    it('an old record, not yet moved, is removed with its service on deregister', async () => {
      const web = service();
      const old = '/_registrator/owners/h1/etcd/services/h1%3Aweb%3A80';
      await etcd.put('/services/web/h1:web:80').value('10.0.0.5:8080');
      await etcd.put(old).value(JSON.stringify(web));
      const b = etcdBackend();
      await b.load();
      await b.apply([deregister(web)]);
      assert.deepEqual(memory.tree(), {});
    });

    it('an unreadable record is reported, not loaded; removeRecords deletes it while it holds that value', async () => {
      const bad = '/_registrator/owners/h1/etcd/services/x';
      await etcd.put(bad).value('{"id":1}');
      const b = etcdBackend();
      const { owned, unreadable } = await b.load();
      assert.deepEqual(owned, []);
      assert.deepEqual(unreadable, [{ key: bad, value: '{"id":1}' }]);
      await b.removeRecords(unreadable);
      assert.deepEqual(memory.tree(), {});
    });
  });

  describe('purge and clear', () => {
    it("purge (hamesh): every host's services under the prefix go, records and claims stay; etcd:// purges nothing", async () => {
      const h1 = meshBackend();
      const h2 = meshBackend({ host: 'h2' });
      const web = service();
      const db = service({ name: 'db', id: 'h2:db:80', containerId: B, attrs: { external_port: '5432' } });
      await h1.apply([register(web)]);
      await h2.apply([register(db)]);
      await h1.purge();
      assert.equal(h1.book.size, 0);
      assert.deepEqual(memory.tree(), {
        '/_registrator/claims/hamesh/mesh/external_port/5432/db%2Fh2%3Adb%3A80': 'h2',
        ...record('h1', 'hamesh/mesh', web),
        ...record('h2', 'hamesh/mesh', db),
      });

      await etcd.delete().all();
      const e = etcdBackend();
      await e.apply([register(web)]);
      const before = memory.tree();
      calls = memory.calls.length;
      await e.purge();
      assert.deepEqual(memory.tree(), before);
      assert.equal(writes().length, 0);
    });

    it("clear (SIGTERM): this host's services and records go, unreadable records too; another host's and a taken-over key stay", async () => {
      const h1 = etcdBackend();
      const h2 = etcdBackend({ host: 'h2' });
      const web = service();
      const shared = service({ id: 'shared-1', name: 'api' });
      const theirs = service({ id: 'shared-1', name: 'api', containerId: B, ip: '10.0.0.7' });
      const other = service({ name: 'db', id: 'h2:db:80', containerId: B });
      await h1.apply([register(web), register(shared)]);
      await h2.apply([register(theirs), register(other)]);
      await etcd.put('/_registrator/owners/h1/etcd/services/x').value('not json');
      await h1.clear();
      assert.equal(h1.book.size, 0);
      assert.deepEqual(memory.tree(), {
        '/services/api/shared-1': '10.0.0.7:8080',
        '/services/db/h2:db:80': '10.0.0.5:8080',
        ...record('h2', 'etcd/services', theirs),
        ...record('h2', 'etcd/services', other),
      });
    });
  });
});

interface RequestOp {
  request_put?: { key: Buffer };
  request_delete_range?: { key: Buffer };
  request_txn?: TxnRequest;
}
interface TxnRequest {
  success?: RequestOp[];
}

/** The keys one transaction puts and deletes, nested transactions (groups past 128 ops) flattened. */
function flatten(txn: TxnRequest): { puts: string[]; deletes: string[] } {
  const puts: string[] = [];
  const deletes: string[] = [];
  for (const op of txn.success ?? []) {
    if (op.request_put) puts.push(op.request_put.key.toString());
    if (op.request_delete_range) deletes.push(op.request_delete_range.key.toString());
    if (op.request_txn) {
      const inner = flatten(op.request_txn);
      puts.push(...inner.puts);
      deletes.push(...inner.deletes);
    }
  }
  return { puts, deletes };
}
