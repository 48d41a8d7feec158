import { noop } from 'cockatiel';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  IKeyValue,
  IRequestOp,
} from 'etcd3';
import { isCompactedError } from '../../src/etcd/history';
import { prefixEnd } from '../../src/etcd/key-ops';
import { waitFor } from './wait';

/**
 * etcd's behaviour as the product relies on it, one case at a time, through the etcd3 client. Run
 * against the in-memory etcd (test/unit/memory-etcd.contract.test.ts) and against a real one
 * (test/integration/etcd-contract.test.ts): whatever the unit tests learn from the in-memory one
 * holds for etcd. Each case works under its own prefix and counts revisions from where it starts.
 */
export interface ContractTarget {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /**
   * Lets `ms` pass for the leases and resolves once `settled` holds: the in-memory etcd moves its
   * clock, a real one is waited for (polling `settled`).
   */
  passTime(ms: number, settled: () => Promise<boolean>): Promise<void>;
  stop(): Promise<void>;
}

const b = (s: string) => Buffer.from(s);
const put = (key: string, value: string, lease?: string): IRequestOp => ({
  request_put: { key: b(key), value: b(value), ...(lease ? { lease } : {}) },
});
/** A key/value as plain strings, for exact comparisons. */
const plain = (kv: IKeyValue) => ({
  key: kv.key.toString(),
  value: kv.value.toString(),
  create_revision: String(kv.create_revision),
  mod_revision: String(kv.mod_revision),
  version: String(kv.version),
  lease: String(kv.lease),
});

export function etcdContract(name: string, start: () => Promise<ContractTarget>): void {
  describe(`etcd contract: ${name}`, { timeout: 120_000 }, () => {
    let target: ContractTarget;
    let etcd: Etcd3;
    const revision = async () => Number((await etcd.kv.range({ key: b('/') })).header.revision);

    before(async () => {
      target = await start();
      // No breaker, no retries: each case sees etcd's own answer (an exhausted request would open etcd3's default breaker).
      etcd = new Etcd3({ hosts: target.url, faultHandling: { host: () => noop, global: noop } });
    });
    after(async () => {
      etcd?.close();
      await target?.stop();
    });

    it('a put answers with a header and moves the revision by one; a key keeps its create revision and counts versions', async () => {
      const r0 = await revision();
      const first = await etcd.kv.put({ key: b('/c1/a'), value: b('1') });
      assert.equal(first.header.revision, String(r0 + 1));
      assert.match(String(first.header.cluster_id), /^[1-9]\d*$/);
      assert.match(String(first.header.member_id), /^[1-9]\d*$/);
      assert.match(String(first.header.raft_term), /^[1-9]\d*$/);
      const second = await etcd.kv.put({ key: b('/c1/a'), value: b('2'), prev_kv: true });
      assert.equal(second.header.revision, String(r0 + 2));
      assert.deepEqual(plain(second.prev_kv!), {
        key: '/c1/a',
        value: '1',
        create_revision: String(r0 + 1),
        mod_revision: String(r0 + 1),
        version: '1',
        lease: '0',
      });
      const read = await etcd.kv.range({ key: b('/c1/a') });
      assert.equal(read.header.revision, String(r0 + 2));
      assert.equal(read.header.cluster_id, first.header.cluster_id);
      assert.deepEqual(read.kvs.map(plain), [
        { key: '/c1/a', value: '2', create_revision: String(r0 + 1), mod_revision: String(r0 + 2), version: '2', lease: '0' },
      ]);
      // A put without prev_kv answers none.
      assert.equal((await etcd.kv.put({ key: b('/c1/b'), value: b('') })).prev_kv, null);
    });

    it('ranges: prefix ends, limits with more and count, keys only, count only, a past revision, sorting', async () => {
      const r0 = await revision();
      for (const k of ['a', 'b', 'c', 'd']) await etcd.put(`/c2/${k}`).value(`v${k}`);
      await etcd.put('/c20').value('outside');
      const prefix = { key: b('/c2/'), range_end: prefixEnd('/c2/') };
      const page = await etcd.kv.range({ ...prefix, limit: 2 });
      assert.deepEqual(
        page.kvs.map((kv) => kv.key.toString()),
        ['/c2/a', '/c2/b'],
      );
      assert.equal(page.more, true);
      assert.equal(page.count, '4');
      const rest = await etcd.kv.range({ key: b('/c2/b\0'), range_end: prefixEnd('/c2/'), limit: 2 });
      assert.deepEqual(
        rest.kvs.map((kv) => kv.key.toString()),
        ['/c2/c', '/c2/d'],
      );
      assert.equal(rest.more, false);
      const keysOnly = await etcd.kv.range({ ...prefix, keys_only: true });
      assert.deepEqual(
        keysOnly.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]),
        ['a', 'b', 'c', 'd'].map((k) => [`/c2/${k}`, '']),
      );
      const countOnly = await etcd.kv.range({ ...prefix, count_only: true });
      assert.deepEqual([countOnly.kvs.length, countOnly.count], [0, '4']);
      // "\0" as range_end: every key from the start on.
      const fromC = await etcd.kv.range({ key: b('/c2/c'), range_end: b('\0'), limit: 3 });
      assert.deepEqual(
        fromC.kvs.map((kv) => kv.key.toString()),
        ['/c2/c', '/c2/d', '/c20'],
      );
      // At a past revision: only the first two keys existed.
      const past = await etcd.kv.range({ ...prefix, revision: String(r0 + 2) });
      assert.deepEqual(
        past.kvs.map((kv) => kv.key.toString()),
        ['/c2/a', '/c2/b'],
      );
      assert.equal(past.header.revision, String(r0 + 5), 'the header says the current revision');
      const sorted = await etcd.kv.range({ ...prefix, sort_order: 'Descend', sort_target: 'Key', limit: 3 });
      assert.deepEqual(
        sorted.kvs.map((kv) => kv.key.toString()),
        ['/c2/d', '/c2/c', '/c2/b'],
      );
      await assert.rejects(
        etcd.kv.range({ key: b('/c2/a'), revision: String(r0 + 100) }),
        (err: Error) => err instanceof GRPCOutOfRangeError && /required revision is a future revision/.test(err.message),
      );
    });

    it('a delete answers what it deleted; deleting nothing leaves the revision where it is', async () => {
      await etcd.put('/c3/a').value('1');
      await etcd.put('/c3/b').value('2');
      const r0 = await revision();
      const res = await etcd.kv.deleteRange({ key: b('/c3/'), range_end: prefixEnd('/c3/'), prev_kv: true });
      assert.equal(res.deleted, '2');
      assert.equal(res.header.revision, String(r0 + 1));
      assert.deepEqual(
        res.prev_kvs.map((kv) => [kv.key.toString(), kv.value.toString()]),
        [
          ['/c3/a', '1'],
          ['/c3/b', '2'],
        ],
      );
      const none = await etcd.kv.deleteRange({ key: b('/c3/a') });
      assert.deepEqual([none.deleted, none.header.revision], ['0', String(r0 + 1)]);
      // A deleted key starts over: version 1 and a new create revision.
      await etcd.put('/c3/a').value('again');
      const again = (await etcd.kv.range({ key: b('/c3/a') })).kvs.map(plain);
      assert.deepEqual(again, [
        { key: '/c3/a', value: 'again', create_revision: String(r0 + 2), mod_revision: String(r0 + 2), version: '1', lease: '0' },
      ]);
    });

    it('a transaction judges its compares (value, version, create, mod, lease) and applies one branch at one revision', async () => {
      await etcd.put('/c4/k').value('v');
      const r0 = await revision();
      const lease = (await etcd.leaseClient.leaseGrant({ TTL: 60 })).ID;
      const cases: Array<[string, object, boolean]> = [
        ['value equal', { target: 'Value', result: 'Equal', value: b('v') }, true],
        ['value not equal', { target: 'Value', result: 'NotEqual', value: b('v') }, false],
        ['value greater', { target: 'Value', result: 'Greater', value: b('u') }, true],
        ['version', { target: 'Version', result: 'Equal', version: 1 }, true],
        ['create', { target: 'Create', result: 'Equal', create_revision: r0 }, true],
        ['mod less', { target: 'Mod', result: 'Less', mod_revision: r0 }, false],
        ['lease none', { target: 'Lease', result: 'Equal', lease: 0 }, true],
        ['lease other', { target: 'Lease', result: 'Equal', lease }, false],
      ];
      for (const [what, compare, expected] of cases) {
        const res = await etcd.kv.txn({ compare: [{ key: b('/c4/k'), ...compare }], success: [], failure: [] });
        assert.equal(res.succeeded, expected, what);
      }
      // An absent key: version/create/mod 0, and a value compare is never true.
      const absent = await etcd.kv.txn({
        compare: [
          { key: b('/c4/none'), target: 'Create', result: 'Equal', create_revision: 0 },
          { key: b('/c4/none'), target: 'Version', result: 'Equal', version: 0 },
        ],
      });
      assert.equal(absent.succeeded, true);
      const absentValue = await etcd.kv.txn({ compare: [{ key: b('/c4/none'), target: 'Value', result: 'NotEqual', value: b('x') }] });
      assert.equal(absentValue.succeeded, false);
      assert.equal(absentValue.header.revision, String(r0), 'compares, reads and a lease grant do not move the revision');

      const res = await etcd.kv.txn({
        compare: [{ key: b('/c4/k'), target: 'Value', result: 'Equal', value: b('other') }],
        success: [put('/c4/yes', '1')],
        failure: [put('/c4/no', '1', lease), put('/c4/no2', '2'), { request_range: { key: b('/c4/no') } }],
      });
      assert.equal(res.succeeded, false);
      assert.equal(res.header.revision, String(r0 + 1));
      // A read inside the transaction sees the transaction's earlier writes.
      const range = res.responses[2].response_range!;
      assert.deepEqual(range.kvs.map(plain), [
        { key: '/c4/no', value: '1', create_revision: String(r0 + 1), mod_revision: String(r0 + 1), version: '1', lease: String(lease) },
      ]);
      assert.deepEqual(await etcd.getAll().prefix('/c4/').strings(), { '/c4/k': 'v', '/c4/no': '1', '/c4/no2': '2' });
      const written = await etcd.kv.range({ key: b('/c4/no'), range_end: prefixEnd('/c4/no') });
      assert.deepEqual(
        written.kvs.map((kv) => String(kv.mod_revision)),
        [String(r0 + 1), String(r0 + 1)],
      );
      await etcd.leaseClient.leaseRevoke({ ID: lease });
    });

    it('nested transactions: each judged on the store before the transaction, all in the one revision', async () => {
      await etcd.put('/c5/guard').value('g');
      const r0 = await revision();
      const guard = (await etcd.kv.range({ key: b('/c5/guard') })).kvs[0].mod_revision;
      const res = await etcd.kv.txn({
        success: [
          put('/c5/a', '1'),
          {
            request_txn: {
              compare: [{ key: b('/c5/guard'), target: 'Mod', result: 'Equal', mod_revision: guard }],
              success: [{ request_delete_range: { key: b('/c5/guard') } }],
            },
          },
          {
            request_txn: {
              compare: [{ key: b('/c5/guard'), target: 'Mod', result: 'Equal', mod_revision: Number(guard) + 1 }],
              success: [put('/c5/wrong', 'x')],
              failure: [put('/c5/right', 'y')],
            },
          },
        ],
      });
      assert.equal(res.succeeded, true);
      assert.equal(res.header.revision, String(r0 + 1));
      assert.equal(res.responses[1].response_txn!.succeeded, true);
      assert.equal(res.responses[2].response_txn!.succeeded, false);
      assert.deepEqual(await etcd.getAll().prefix('/c5/').strings(), { '/c5/a': '1', '/c5/right': 'y' });
    });

    it("etcd's limits: 128 operations per list, a nested list within what its parent leaves, no key twice", async () => {
      const r0 = await revision();
      const puts = (n: number, p: string) => Array.from({ length: n }, (_, i) => put(`/c6/${p}${i}`, 'v'));
      assert.equal((await etcd.kv.txn({ success: puts(128, 'flat') })).header.revision, String(r0 + 1));
      const tooMany = (err: Error) => err instanceof GRPCInvalidArgumentError && /too many operations in txn request/.test(err.message);
      await assert.rejects(etcd.kv.txn({ success: puts(129, 'x') }), tooMany);
      // 2 nested lists leave each 126.
      const nested = (n: number) => [{ request_txn: { success: puts(n, 'n1-') } }, { request_txn: { success: puts(n, 'n2-') } }];
      assert.equal((await etcd.kv.txn({ success: nested(126) })).header.revision, String(r0 + 2));
      await assert.rejects(etcd.kv.txn({ success: nested(127) }), tooMany);
      const duplicate = (err: Error) => err instanceof GRPCInvalidArgumentError && /duplicate key given in txn request/.test(err.message);
      await assert.rejects(etcd.kv.txn({ success: [put('/c6/d', '1'), put('/c6/d', '2')] }), duplicate);
      await assert.rejects(
        etcd.kv.txn({ success: [{ request_delete_range: { key: b('/c6/'), range_end: prefixEnd('/c6/') } }, put('/c6/e', '1')] }),
        duplicate,
      );
      await assert.rejects(etcd.kv.txn({ success: [put('/c6/f', '1'), { request_txn: { success: [put('/c6/f', '2')] } }] }), duplicate);
      // The same key in both branches of one nested transaction is allowed.
      await etcd.kv.txn({ success: [{ request_txn: { success: [put('/c6/g', '1')], failure: [put('/c6/g', '2')] } }] });
      assert.equal(await revision(), r0 + 3, 'nothing refused was written');
    });

    it('a request over 1.5 MiB is refused as too large, one over the gRPC limit as exhausted; nothing is written', async () => {
      const r0 = await revision();
      await assert.rejects(
        etcd
          .put('/c7/big')
          .value('x'.repeat(1.6 * 1024 * 1024))
          .exec(),
        (err: Error) => err instanceof GRPCInvalidArgumentError && /etcdserver: request is too large/.test(err.message),
      );
      await assert.rejects(
        etcd
          .put('/c7/huge')
          .value('x'.repeat(2.2 * 1024 * 1024))
          .exec(),
        GRPCResourceExhastedError,
      );
      assert.equal(await revision(), r0);
      assert.deepEqual(await etcd.getAll().prefix('/c7/').strings(), {});
    });

    it('leases: grant, time to live with keys, keepalive, list, revoke (its keys deleted at one revision), unknown leases', async () => {
      const grant = await etcd.leaseClient.leaseGrant({ TTL: 30 });
      assert.equal(grant.TTL, '30');
      const id = grant.ID;
      await etcd.kv.txn({ success: [put('/c8/a', '1', id), put('/c8/b', '2', id)] });
      const ttl = await etcd.leaseClient.leaseTimeToLive({ ID: id, keys: true });
      assert.equal(ttl.grantedTTL, '30');
      assert.ok(Number(ttl.TTL) > 25 && Number(ttl.TTL) <= 30, `TTL ${ttl.TTL}`);
      assert.deepEqual(
        ttl.keys.map((k) => k.toString()).sort(), // etcd answers them in no particular order
        ['/c8/a', '/c8/b'],
      );
      assert.ok((await etcd.leaseClient.leaseLeases({})).leases.some((l) => l.ID === id));
      const r0 = await revision();
      await etcd.leaseClient.leaseRevoke({ ID: id });
      assert.equal(await revision(), r0 + 1, 'one revision for every key of the lease');
      assert.deepEqual(await etcd.getAll().prefix('/c8/').strings(), {});
      await assert.rejects(etcd.put('/c8/c').value('x').lease(id).exec(), EtcdLeaseInvalidError);
      await assert.rejects(etcd.kv.txn({ success: [put('/c8/d', '1'), put('/c8/e', '2', id)] }), EtcdLeaseInvalidError);
      assert.deepEqual(await etcd.getAll().prefix('/c8/').strings(), {}, 'a transaction with an unknown lease writes nothing');
      await assert.rejects(etcd.leaseClient.leaseRevoke({ ID: id }), EtcdLeaseInvalidError);
      assert.equal((await etcd.leaseClient.leaseTimeToLive({ ID: id })).TTL, '-1');
      // etcd3's keepaliveOnce: a TTL of 0 in the answer is a lease etcd no longer knows.
      const lease = etcd.lease(30, { autoKeepAlive: false });
      const leaseId = await lease.grant();
      assert.equal((await lease.keepaliveOnce()).TTL, '30');
      await etcd.leaseClient.leaseRevoke({ ID: leaseId });
      await assert.rejects(lease.keepaliveOnce(), EtcdLeaseInvalidError);
      lease.release();
    });

    it("a lease that is not kept alive expires and takes its keys with it; one kept alive doesn't", async () => {
      const gone = (await etcd.leaseClient.leaseGrant({ TTL: 2 })).ID;
      const kept = (await etcd.leaseClient.leaseGrant({ TTL: 3 })).ID;
      await etcd.put('/c9/gone').value('1').lease(gone);
      await etcd.put('/c9/kept').value('2').lease(kept);
      await target.passTime(1_500, async () => true);
      const stream = await etcd.leaseClient.leaseKeepAlive();
      const answered = new Promise<{ TTL: string }>((resolve) => stream.on('data', resolve));
      stream.write({ ID: kept });
      assert.equal((await answered).TTL, '3');
      stream.end();
      // Past both TTLs from the grant: only the one kept alive is left.
      await target.passTime(1_600, async () => (await etcd.get('/c9/gone').string()) === null);
      assert.deepEqual(await etcd.getAll().prefix('/c9/').strings(), { '/c9/kept': '2' });
      assert.equal((await etcd.leaseClient.leaseTimeToLive({ ID: gone })).TTL, '-1');
      await etcd.leaseClient.leaseRevoke({ ID: kept });
    });

    it('watches: events with their previous values, history from a start revision, deletions only, cancel', async () => {
      const r0 = await revision();
      await etcd.put('/c10/a').value('1');
      await etcd.put('/c10/a').value('2');
      await etcd.delete().key('/c10/a');
      const seen: string[] = [];
      const all = await etcd
        .watch()
        .prefix('/c10/')
        .startRevision(String(r0 + 1))
        .withPreviousKV()
        .create();
      all.on('put', (kv, prev) => seen.push(`put ${kv.key} ${kv.value} ${kv.mod_revision} prev=${prev?.value ?? '-'}`));
      all.on('delete', (kv, prev) => seen.push(`delete ${kv.key} ${kv.mod_revision} prev=${prev?.value ?? '-'}`));
      const deletes: string[] = [];
      const onlyDeletes = await etcd.watch().prefix('/c10/').only('delete').create();
      onlyDeletes.on('put', (kv) => deletes.push(`put ${kv.key}`));
      onlyDeletes.on('delete', (kv) => deletes.push(`delete ${kv.key} ${kv.mod_revision}`));
      await etcd.put('/c10/b').value('3');
      await etcd.delete().key('/c10/b');
      await waitFor('the watch to hear every change', () => seen.length >= 5 && deletes.length >= 1, 10_000, 10);
      assert.deepEqual(seen, [
        `put /c10/a 1 ${r0 + 1} prev=-`,
        `put /c10/a 2 ${r0 + 2} prev=1`,
        `delete /c10/a ${r0 + 3} prev=2`,
        `put /c10/b 3 ${r0 + 4} prev=-`,
        `delete /c10/b ${r0 + 5} prev=3`,
      ]);
      assert.deepEqual(deletes, [`delete /c10/b ${r0 + 5}`]);
      await all.cancel();
      await onlyDeletes.cancel();
      await etcd.put('/c10/c').value('after cancel');
      assert.equal(seen.length, 5);
    });

    it('compaction: past revisions are gone (reads and watches from them are refused), a second compaction of the same revision too', async () => {
      await etcd.put('/c11/a').value('1');
      const r0 = await revision();
      await etcd.put('/c11/a').value('2');
      await etcd.put('/c11/a').value('3');
      const compactAt = r0 + 1;
      assert.equal((await etcd.kv.compact({ revision: compactAt, physical: true })).header.revision, String(r0 + 2));
      const compacted = (err: Error) => err instanceof GRPCOutOfRangeError && /required revision has been compacted/.test(err.message);
      await assert.rejects(etcd.kv.range({ key: b('/c11/a'), revision: String(r0) }), compacted);
      await assert.rejects(etcd.kv.compact({ revision: compactAt }), compacted);
      await assert.rejects(
        etcd.kv.compact({ revision: r0 + 100 }),
        (err: Error) => err instanceof GRPCOutOfRangeError && /future revision/.test(err.message),
      );
      // The compacted revision itself is still readable.
      assert.deepEqual(
        (await etcd.kv.range({ key: b('/c11/a'), revision: String(compactAt) })).kvs.map((kv) => kv.value.toString()),
        ['2'],
      );
      const watcher = await etcd
        .watch()
        .prefix('/c11/')
        .startRevision(String(r0 - 1))
        .create();
      const err = await new Promise<Error>((resolve) => watcher.once('error', resolve));
      assert.ok(isCompactedError(err), `a compacted watch is told so: ${err.message}`);
    });

    it('maintenance status and the member list answer with the same header identity', async () => {
      const status = await etcd.maintenance.status();
      const members = await etcd.cluster.memberList({});
      assert.equal(status.header.cluster_id, members.header.cluster_id);
      assert.equal(status.header.member_id, members.header.member_id);
      assert.equal(status.leader, status.header.member_id, 'a single member leads');
      assert.match(status.version, /^3\.\d+\.\d+$/);
      assert.deepEqual(
        members.members.map((m) => String(m.ID)),
        [String(status.header.member_id)],
      );
      assert.equal(status.header.revision, String(await revision()));
    });
  });
}
