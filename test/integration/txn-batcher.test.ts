import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdLeaseInvalidError } from 'etcd3';
import { commitSplit as commitOps } from '../../src/etcd/commit';
import { EtcdServer } from '../support/etcd';

describe('transactions sent at one moment travel as one (real etcd)', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await EtcdServer.start();
  });
  after(async () => {
    await etcd?.stop();
  });
  const revision = async () => Number((await etcd.client.kv.range({ key: Buffer.from('/none') })).header.revision);

  it("three writers' transactions of one moment are one etcd revision, all keys written", async () => {
    const before = await revision();
    await Promise.all([
      commitOps(etcd.client, [
        { put: '/registry/x/id', value: '1' },
        { put: '/registry/x/name', value: 'x' },
      ]),
      commitOps(etcd.client, [{ put: '/mesh/svc/x/address', value: '10.0.0.1' }]),
      commitOps(etcd.client, [
        { put: '/services/svc/x', value: '10.0.0.1:80' },
        { delete: '/hosts/h/x', ifValue: 'old' },
      ]),
    ]);
    assert.equal(await revision(), before + 1);
    assert.deepEqual(Object.keys(await etcd.tree('/')), ['/mesh/svc/x/address', '/registry/x/id', '/registry/x/name', '/services/svc/x']);
  });

  it('a part etcd refuses (a lease that does not exist) fails alone; the others are written', async () => {
    const results = await Promise.allSettled([
      commitOps(etcd.client, [{ put: '/a/ok', value: '1' }]),
      commitOps(etcd.client, [{ put: '/a/leased', value: '1', lease: '123456789' }]),
      commitOps(etcd.client, [{ put: '/a/ok2', value: '2' }]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof EtcdLeaseInvalidError);
    assert.deepEqual(await etcd.tree('/a/'), { '/a/ok': '1', '/a/ok2': '2' });
  });

  it('two transactions on one key are not merged: both land, as two revisions', async () => {
    const before = await revision();
    await Promise.all([commitOps(etcd.client, [{ put: '/k', value: 'first' }]), commitOps(etcd.client, [{ put: '/k', value: 'second' }])]);
    assert.equal(await revision(), before + 2);
    assert.ok(['first', 'second'].includes((await etcd.tree('/k'))['/k']));
  });
});
