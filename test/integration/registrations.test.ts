import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Watcher } from 'etcd3';
import { TEST_IMAGE } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { FleetHost } from '../support/fleet';
import { sorted } from '../support/mirror';
import { sleep, waitFor } from '../support/wait';

const PID = process.pid;

/**
 * Registrations that must never touch another host's or container's data, and that consumers see
 * change in one step: two Docker hosts (private engines) and their registrators (mirror, hamesh and
 * etcd writers, -internal) on one etcd.
 */
describe("registrations: one atomic change per container, never another host's or container's data", { timeout: 600_000 }, () => {
  let etcd: EtcdServer;
  const a = new FleetHost(`ra${PID}`, () => etcd.endpoint);
  const b = new FleetHost(`rb${PID}`, () => etcd.endpoint);

  const start = (h: FleetHost) => h.startDaemon(true);
  const sighup = (h: FleetHost) => h.daemon!.reconcileOn('SIGHUP', 30_000);
  /** A container publishing nothing, with one service on exposed port 80 and these SERVICE_ settings. */
  const run = (h: FleetHost, name: string, env: string[] = []) =>
    h.containers.run(['--name', name, '--expose', '80', ...env.flatMap((e) => ['-e', e]), TEST_IMAGE, 'sleep', '3600']);
  const ipOf = async (h: FleetHost, id: string) => (await h.containers.inspect(id)).NetworkSettings.Networks.bridge.IPAddress;
  const records = async (h: FleetHost, scope: string) => Object.keys(await etcd.tree(`/_registrator/owners/${h.host}/${scope}/`));

  before(async () => {
    etcd = await EtcdServer.start();
    await Promise.all([a.boot(), b.boot()]);
    await Promise.all([start(a), start(b)]);
  });
  after(async () => {
    await Promise.all([a.shutdown(), b.shutdown()]);
    await etcd?.stop();
  });

  it("one SERVICE_ID on two hosts: the later registration wins; the loser's stop and SIGTERM leave the winner alone; the loser takes over when the winner leaves", async () => {
    const env = ['SERVICE_NAME=shared', 'SERVICE_ID=shared-1'];
    const onA = await run(a, `sa${PID}`, env);
    const ipA = await ipOf(a, onA);
    await waitFor('A registered', async () => (await etcd.tree('/mesh/shared/shared-1/'))['/mesh/shared/shared-1/address'] === ipA);
    const onB = await run(b, `sb${PID}`, env);
    const ipB = await ipOf(b, onB);
    assert.notEqual(ipA, ipB);
    const winner = { '/mesh/shared/shared-1/address': ipB, '/mesh/shared/shared-1/mode': 'tcp', '/mesh/shared/shared-1/port': '80' };
    await waitFor("B's registration to win", async () => JSON.stringify(await etcd.tree('/mesh/shared/')) === JSON.stringify(winner));
    await waitFor('etcd:// too', async () => (await etcd.tree('/services/shared/'))['/services/shared/shared-1'] === `${ipB}:80`);

    // A learns at its next reconciliation that it lost, says so once, and writes nothing back.
    await sighup(a);
    await sighup(a);
    const lost = a.daemon!.lines.filter(
      (l) =>
        l.message ===
        'services whose keys a later registration (another container or host with the same ID) has written: it wins; these stand by until it is removed',
    );
    assert.deepEqual(
      lost.map((l) => [l.component, l.services]).sort(),
      [
        ['writer.etcd', ['shared-1']],
        ['writer.hamesh', ['shared-1']],
      ],
      'said once by each writer',
    );
    assert.deepEqual(await etcd.tree('/mesh/shared/'), winner);

    // A's container stops: its deregistration is guarded by the revision A wrote at, so B's keys stay.
    await a.docker(['stop', '-t', '0', onA]);
    await waitFor(
      "A's records gone",
      async () => (await records(a, 'hamesh/mesh')).length === 0 && (await records(a, 'etcd/services')).length === 0,
    );
    assert.deepEqual(await etcd.tree('/mesh/shared/'), winner);
    assert.equal((await etcd.tree('/services/shared/'))['/services/shared/shared-1'], `${ipB}:80`);

    // A runs it again: it is the later registration now, and wins.
    await a.docker(['start', onA]);
    const ipA2 = await ipOf(a, onA);
    await waitFor('A wins again', async () => (await etcd.tree('/mesh/shared/shared-1/'))['/mesh/shared/shared-1/address'] === ipA2);
    // B (the loser now) is stopped with SIGTERM: it deletes its own data only.
    b.daemon!.signal('SIGTERM');
    assert.equal(await b.daemon!.exited, 0);
    assert.equal((await etcd.tree('/mesh/shared/shared-1/'))['/mesh/shared/shared-1/address'], ipA2);
    assert.equal((await etcd.tree('/services/shared/'))['/services/shared/shared-1'], `${ipA2}:80`);
    assert.deepEqual(await records(b, 'hamesh/mesh'), []);
    await start(b);
    // B is back and registers over A again; then A's container goes: B stands... B is the winner, A the loser.
    await waitFor('B wins on its return', async () => (await etcd.tree('/mesh/shared/shared-1/'))['/mesh/shared/shared-1/address'] === ipB);
    // The winner leaves: the loser (A) sees the keys go and takes them within 2 s.
    const sent = Date.now();
    await b.docker(['rm', '-f', onB]);
    await waitFor(
      'A to take over',
      async () => (await etcd.tree('/mesh/shared/shared-1/'))['/mesh/shared/shared-1/address'] === ipA2,
      5_000,
      20,
    );
    assert.ok(Date.now() - sent < 3_000, `A took over after ${Date.now() - sent} ms`);
    await a.docker(['rm', '-f', onA]);
    await waitFor(
      'nothing left of the shared service',
      async () => Object.keys({ ...(await etcd.tree('/mesh/shared/')), ...(await etcd.tree('/services/shared/')) }).length === 0,
    );
  });

  it('two containers on one host with one SERVICE_ID: a record each; removing the loser leaves the winner, removing the winner leaves nothing behind', async () => {
    const env = ['SERVICE_NAME=dup', 'SERVICE_ID=dup-1'];
    const first = await run(a, `d1${PID}`, env);
    await waitFor(
      'first registered',
      async () => (await etcd.tree('/mesh/dup/dup-1/'))['/mesh/dup/dup-1/address'] === (await ipOf(a, first)),
    );
    const second = await run(a, `d2${PID}`, env);
    const ip2 = await ipOf(a, second);
    await waitFor('second wins', async () => (await etcd.tree('/mesh/dup/dup-1/'))['/mesh/dup/dup-1/address'] === ip2);
    const recs = (await records(a, 'hamesh/mesh')).filter((k) => k.endsWith('/dup-1'));
    assert.deepEqual(
      recs.sort(),
      [`/_registrator/owners/${a.host}/hamesh/mesh/${first}/dup-1`, `/_registrator/owners/${a.host}/hamesh/mesh/${second}/dup-1`].sort(),
    );
    await a.docker(['rm', '-f', first]);
    await waitFor(
      "the loser's record gone",
      async () => (await records(a, 'hamesh/mesh')).filter((k) => k.endsWith('/dup-1')).length === 1,
    );
    assert.deepEqual(await etcd.tree('/mesh/dup/'), {
      '/mesh/dup/dup-1/address': ip2,
      '/mesh/dup/dup-1/mode': 'tcp',
      '/mesh/dup/dup-1/port': '80',
    });
    await a.docker(['rm', '-f', second]);
    await waitFor(
      'nothing left',
      async () =>
        Object.keys({ ...(await etcd.tree('/mesh/dup/')), ...(await etcd.tree('/services/dup/')) }).length === 0 &&
        (await records(a, 'hamesh/mesh')).length === 0,
    );
  });

  it('a container recreated under its name 20 times while reconciliations run: the last one stays registered, exactly', async () => {
    const name = `re${PID}`;
    let id = await run(a, name);
    let hups = true;
    const hupping = (async () => {
      while (hups) {
        a.daemon!.signal('SIGHUP');
        await sleep(30);
      }
    })();
    try {
      for (let round = 0; round < 20; round++) {
        await a.docker(['rm', '-f', id]);
        id = await run(a, name);
      }
    } finally {
      hups = false;
      await hupping;
    }
    const expected = await a.expectedTree();
    const mine = async () =>
      Object.fromEntries(Object.entries(await etcd.tree('/')).filter(([k, v]) => k.includes(name) || v === id || k.includes(id)));
    const wanted = sorted(Object.fromEntries(Object.entries(expected).filter(([k, v]) => k.includes(name) || v === id || k.includes(id))));
    await waitFor("exactly the last container's keys", async () => JSON.stringify(await mine()) === JSON.stringify(wanted), 30_000).catch(
      () => undefined,
    );
    assert.deepEqual(await mine(), wanted);
    await sleep(1_000);
    assert.deepEqual(await mine(), wanted);
    // Mirror: 7 fields, hosts/ key, index record, 4 port keys, 1 label x 2; hamesh 3 and etcd 1 keys with a record each.
    assert.equal(Object.keys(wanted).length, 21);
    await a.docker(['rm', '-f', id]);
  });

  it('two services claiming one SERVICE_EXTERNAL_PORT on two hosts: the one whose name/id sorts first keeps it, whichever came first; the other does without, both warned; the holder leaves and the other takes the port', async () => {
    const claims = '/_registrator/claims/hamesh/mesh/external_port/5432/';
    const onA = await run(a, `pa${PID}`, ['SERVICE_NAME=zzz', 'SERVICE_EXTERNAL_PORT=5432']);
    const treeA = `/mesh/zzz/${a.host}:pa${PID}:80/`;
    const treeB = `/mesh/aaa/${b.host}:pb${PID}:80/`;
    const port = async (tree: string) => (await etcd.tree(tree))[`${tree}external_port`];
    await waitFor('A holds the port, alone', async () => (await port(treeA)) === '5432');
    // B's service sorts first (aaa < zzz) though it comes second: it keeps the port; A drops it without being asked.
    const onB = await run(b, `pb${PID}`, ['SERVICE_NAME=aaa', 'SERVICE_EXTERNAL_PORT=5432']);
    await waitFor(
      'B to hold the port and A to drop it',
      async () => (await port(treeB)) === '5432' && (await port(treeA)) === undefined,
      10_000,
      20,
    );
    assert.deepEqual(Object.keys(await etcd.tree(claims)).sort(), [
      `${claims}aaa%2F${encodeURIComponent(`${b.host}:pb${PID}:80`)}`,
      `${claims}zzz%2F${encodeURIComponent(`${a.host}:pa${PID}:80`)}`,
    ]);
    assert.equal(Object.keys(await etcd.tree(treeA)).length, 3, 'A stays registered, without the port');
    const said = (h: FleetHost, message: string) =>
      h.daemon!.lines.filter((l) => l.message === message).map((l) => [l.service, l.port, l.others]);
    assert.deepEqual(said(a, 'port held by another service (its name/id sorts first): registered without it'), [
      [`${a.host}:pa${PID}:80`, 'SERVICE_EXTERNAL_PORT 5432', [`aaa/${b.host}:pb${PID}:80`]],
    ]);
    await waitFor(
      'B warned too',
      async () => said(b, 'port claimed by other services too: this one keeps it (its name/id sorts first)').length === 1,
    );
    assert.deepEqual(said(b, 'port claimed by other services too: this one keeps it (its name/id sorts first)'), [
      [`${b.host}:pb${PID}:80`, 'SERVICE_EXTERNAL_PORT 5432', [`zzz/${a.host}:pa${PID}:80`]],
    ]);
    // The holder leaves: A takes the port within 2 s, unasked.
    const sent = Date.now();
    await b.docker(['rm', '-f', onB]);
    await waitFor('A to take the port', async () => (await port(treeA)) === '5432', 5_000, 20);
    assert.ok(Date.now() - sent < 3_000, `A took the port after ${Date.now() - sent} ms`);
    await a.docker(['rm', '-f', onA]);
    await waitFor('no claim left', async () => Object.keys(await etcd.tree('/_registrator/claims/')).length === 0);
  });

  it('a malformed ownership record is skipped with one warning naming it and removed at the next reconciliation', async () => {
    const bad = [`/_registrator/owners/${a.host}/etcd/services/x`, `/_registrator/owners/${a.host}/hamesh/mesh/${'f'.repeat(64)}/y`];
    await etcd.client.put(bad[0]).value('{"id":"x"}');
    await etcd.client.put(bad[1]).value('not json at all');
    await sighup(a);
    await waitFor('both records gone', async () =>
      (await Promise.all(bad.map((k) => etcd.client.get(k).string()))).every((v) => v === null),
    );
    const warnings = a.daemon!.lines.filter(
      (l) => l.message === 'ownership records that are not a service: skipped, removed after this reconciliation',
    );
    assert.deepEqual(
      warnings
        .map((l) => l.keys)
        .flat()
        .sort(),
      [...bad].sort(),
    );
    await sighup(a);
    assert.equal(
      a.daemon!.lines.filter((l) => l.message === 'ownership records that are not a service: skipped, removed after this reconciliation')
        .length,
      2,
      'one per registry, once',
    );
    assert.equal((await a.daemon!.health()).code, 200, 'both writers in step');
  });

  it('a service with 200 domains is one transaction; a changed service is one more, and consumers never see it missing', async () => {
    const domains = Array.from({ length: 200 }, (_, i) => `d${i}.example.com`).join(',');
    const seen: Array<{ type: string; key: string; revision: string }> = [];
    const watchers: Watcher[] = [];
    for (const prefix of ['/mesh/wide/', `/_registrator/owners/${a.host}/hamesh/`]) {
      const w = await etcd.client.watch().prefix(prefix).create();
      w.on('put', (kv) => seen.push({ type: 'put', key: kv.key.toString(), revision: String(kv.mod_revision) }));
      w.on('delete', (kv) => seen.push({ type: 'delete', key: kv.key.toString(), revision: String(kv.mod_revision) }));
      watchers.push(w);
    }
    try {
      const id = await run(a, `wide${PID}`, ['SERVICE_NAME=wide', 'SERVICE_MODE=http', `SERVICE_DOMAINS=${domains}`]);
      await waitFor('registered', async () => seen.filter((e) => e.type === 'put').length === 204);
      assert.equal(new Set(seen.map((e) => e.revision)).size, 1, '3 keys, 200 domains and the record: one revision');
      // A rename gives the service another ID: the new one written and the old one removed, in one step.
      seen.length = 0;
      await a.docker(['rename', `wide${PID}`, `wider${PID}`]);
      await waitFor(
        'renamed',
        async () => seen.filter((e) => e.type === 'delete').length >= 204 && seen.filter((e) => e.type === 'put').length === 204,
      );
      await sleep(300);
      assert.equal(new Set(seen.map((e) => e.revision)).size, 1, `the rename was ${new Set(seen.map((e) => e.revision)).size} revisions`);
      assert.equal(Object.keys(await etcd.tree(`/mesh/wide/${a.host}:wider${PID}:80/`)).length, 203);
      assert.deepEqual(await etcd.tree(`/mesh/wide/${a.host}:wide${PID}:80/`), {});
      await a.docker(['rm', '-f', id]);
    } finally {
      await Promise.all(watchers.map((w) => w.cancel()));
    }
  });
});
