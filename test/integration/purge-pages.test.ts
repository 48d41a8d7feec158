import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deletePrefixInPages } from '../../src/etcd/purge';
import { EtcdServer } from '../support/etcd';

describe('a purge deletes its prefix in pages (real etcd)', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await EtcdServer.start();
  });
  after(async () => {
    await etcd?.stop();
  });
  const revision = async () => Number((await etcd.client.kv.range({ key: Buffer.from('/none') })).header.revision);

  it('3,000 keys in pages of 500: six deletions (six revisions), every key under the prefix gone, none beside it', async () => {
    const keys = Array.from({ length: 3_000 }, (_, i) => `/registry/containers/${String(i).padStart(5, '0')}/id`);
    for (let i = 0; i < keys.length; i += 100)
      await etcd.client.kv.txn({
        success: keys.slice(i, i + 100).map((k) => ({ request_put: { key: Buffer.from(k), value: Buffer.from('x') } })),
      });
    await etcd.client.put('/registryx').value('beside');
    await etcd.client.put('/registr').value('before');
    const before = await revision();
    assert.equal(await deletePrefixInPages(etcd.client, '/registry/', 500), 6);
    // Each DeleteRange is one revision; the page reads are none.
    assert.equal(await revision(), before + 6);
    assert.deepEqual(await etcd.tree('/registr'), { '/registr': 'before', '/registryx': 'beside' });
  });

  it('an empty prefix: no deletion sent', async () => {
    const before = await revision();
    assert.equal(await deletePrefixInPages(etcd.client, '/nothing/'), 0);
    assert.equal(await revision(), before);
  });
});
