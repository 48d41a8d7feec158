import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyOp } from '../../src/etcd/key-ops';
import type { StoredValue } from '../../src/etcd/reads';
import { hameshKeyLayout } from '../../src/hamesh/registry-layout';
import { splitKeepingPairs } from '../../src/registrator/etcd-kv/commit-change';
import { watchPrefix } from '../../src/registrator/etcd-kv/held-watch';
import { judgeRecord, type StoredRecord } from '../../src/registrator/etcd-kv/reload';
import type { KeyLayout } from '../../src/registrator/registration-ops';
import type { Service } from '../../src/registrator/service';

const A = 'a'.repeat(64);

function service(o: { id?: string; attrs?: Record<string, string> } = {}): Service {
  return {
    id: o.id ?? 'h1:web:80',
    name: 'web',
    port: 8080,
    ip: '10.0.0.5',
    tags: [],
    attrs: o.attrs ?? {},
    origin: {
      containerId: A,
      containerName: 'web',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'web',
    },
  };
}

const etcdLayout: KeyLayout = { root: '/services/', entries: (s) => [[`/services/${s.name}/${s.id}`, `${s.ip}:${s.port}`]] };
const KEY = '/services/web/h1:web:80';
const stored = (value: string, modRevision: string, lease = '0'): StoredValue => ({ value, modRevision, lease });
const record = (s: Service, revision: string): StoredRecord => ({
  key: `/_registrator/owners/h1/etcd/services/${A}/x`,
  service: s,
  revision,
});
const judging = { host: 'h1', lease: '0', anyLease: false };

describe('the etcd registry core: judging a record read back', () => {
  it('intact when every key holds the value written; the guard revision becomes the one deletions are guarded by', () => {
    const verdict = judgeRecord(etcdLayout, record(service(), '10'), new Map([[KEY, stored('10.0.0.5:8080', '10')]]), judging);
    assert.deepEqual(verdict, { intact: true, takenOver: false, revision: '10' });
  });

  it('not intact when a key is missing or changed; the record revision stays', () => {
    assert.deepEqual(judgeRecord(etcdLayout, record(service(), '10'), new Map(), judging), {
      intact: false,
      takenOver: false,
      revision: '10',
    });
    const changed = judgeRecord(etcdLayout, record(service(), '10'), new Map([[KEY, stored('10.0.0.9:1', '8')]]), judging);
    assert.deepEqual(changed, { intact: false, takenOver: false, revision: '8' });
  });

  it('taken over when the guard key was written after the record: left alone, counted intact', () => {
    const verdict = judgeRecord(etcdLayout, record(service(), '10'), new Map([[KEY, stored('10.0.0.7:9', '12')]]), judging);
    assert.deepEqual(verdict, { intact: true, takenOver: true, revision: '10' });
  });

  it('under -ttl a key held by another lease is not intact, unless read for ls/diff (any lease)', () => {
    const current = new Map([[KEY, stored('10.0.0.5:8080', '10', '77')]]);
    assert.equal(judgeRecord(etcdLayout, record(service(), '10'), current, { ...judging, lease: '78' }).intact, false);
    assert.equal(judgeRecord(etcdLayout, record(service(), '10'), current, { ...judging, lease: '77' }).intact, true);
    assert.equal(judgeRecord(etcdLayout, record(service(), '10'), current, { ...judging, lease: '78', anyLease: true }).intact, true);
  });

  it('a hamesh claim: intact while the claim is filed and the port key is as judged (written when won, gone when lost)', () => {
    const layout = hameshKeyLayout('mesh');
    const db = service({ attrs: { external_port: '5432' } });
    const tree = '/mesh/web/h1:web:80/';
    const claim = '/_registrator/claims/hamesh/mesh/external_port/5432/web%2Fh1%3Aweb%3A80';
    const base: Array<[string, StoredValue]> = [
      [`${tree}address`, stored('10.0.0.5', '10')],
      [`${tree}port`, stored('8080', '10')],
      [`${tree}mode`, stored('tcp', '10')],
      [claim, stored('h1', '10')],
    ];
    const won = new Map([...base, [`${tree}external_port`, stored('5432', '10')]]);
    assert.equal(judgeRecord(layout, record(db, '10'), won, judging).intact, true);
    assert.equal(judgeRecord(layout, record(db, '10'), new Map(base), judging).intact, false, 'won, but the port key is missing');
    assert.equal(judgeRecord(layout, record(db, '10'), new Map(base.slice(0, 3)), judging).intact, false, 'the claim is missing');
  });
});

describe('the etcd registry core: splitting a change past etcd limits', () => {
  const big = 'x'.repeat(300 * 1024);
  const pair = (n: number): KeyOp[] => [
    { put: `/services/web/h1:web:${n}`, value: big },
    { put: `/_registrator/owners/h1/etcd/services/${A}/h1%3Aweb%3A${n}`, value: '{}' },
  ];

  it('never parts a guard key from the record after it', () => {
    const puts = [1, 2, 3, 4, 5].flatMap(pair);
    const batches = splitKeepingPairs(puts);
    assert.ok(batches.length > 1);
    assert.deepEqual(batches.flat(), puts, 'every put, in order');
    for (const batch of batches) {
      assert.equal(batch.length % 2, 0, 'whole pairs only');
      for (let i = 1; i < batch.length; i += 2) {
        const op = batch[i];
        assert.ok('put' in op && op.put.startsWith('/_registrator/owners/'));
      }
    }
  });

  it('keeps what fits in one transaction as one', () => {
    const puts: KeyOp[] = [{ put: '/services/web/h1:web:1', value: 'a' }, ...pair(2).map((op) => ({ ...op, value: 'v' }))];
    assert.deepEqual(splitKeepingPairs(puts), [puts]);
  });
});

describe('the etcd registry core: where a held service is watched', () => {
  const layout = hameshKeyLayout('mesh');
  it("a default ID through its host's prefix of the name, a custom ID through its own tree", () => {
    const own = service();
    assert.equal(
      watchPrefix(
        layout,
        'h1',
        own,
        layout.entries(own).map(([k]) => k),
      ),
      '/mesh/web/h1:',
    );
    const custom = service({ id: 'custom' });
    assert.equal(
      watchPrefix(
        layout,
        'h1',
        custom,
        layout.entries(custom).map(([k]) => k),
      ),
      '/mesh/web/custom/',
    );
    assert.equal(watchPrefix(etcdLayout, 'h1', custom, ['/services/web/custom']), '/services/web/custom');
    assert.equal(watchPrefix(etcdLayout, 'h1', custom, []), '', 'a service without keys is not watched');
  });
});
