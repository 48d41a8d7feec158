import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { sleep, waitFor } from '../support/wait';

const HOST = `sig-${process.pid}`;
const OTHER_ID = 'b'.repeat(64);
const STALE_ID = 'c'.repeat(64);

/** Another host's data, as its own registrator would have written it. */
const otherHostData: Record<string, string> = {
  [`/registry/containers/${OTHER_ID}/id`]: OTHER_ID,
  [`/registry/containers/${OTHER_ID}/name`]: 'elsewhere',
  [`/registry/containers/${OTHER_ID}/host`]: 'other-host',
  [`/registry/containers/${OTHER_ID}/state`]: 'running',
  [`/registry/containers/${OTHER_ID}/labels/role`]: 'db',
  [`/registry/hosts/other-host/elsewhere`]: OTHER_ID,
  [`/registry/labels/role/${OTHER_ID}`]: 'db',
};

/** An entry this host wrote for a container that no longer runs (e.g. it died while the daemon was down). */
const staleData: Record<string, string> = {
  [`/registry/containers/${STALE_ID}/id`]: STALE_ID,
  [`/registry/containers/${STALE_ID}/name`]: 'died-meanwhile',
  [`/registry/containers/${STALE_ID}/host`]: HOST,
  [`/registry/containers/${STALE_ID}/state`]: 'running',
  [`/registry/containers/${STALE_ID}/labels/role`]: 'cache',
  [`/registry/hosts/${HOST}/died-meanwhile`]: STALE_ID,
  [`/registry/labels/role/${STALE_ID}`]: 'cache',
};

describe('signals (README.md, "Signals") against real dockerd and etcd', () => {
  let etcd: EtcdServer;
  let daemon: DaemonProcess;
  let runningId: string;
  const containers = new TestContainers(`signals-${process.pid}`);

  async function put(data: Record<string, string>): Promise<void> {
    for (const [k, v] of Object.entries(data)) await etcd.client.put(k).value(v);
  }
  async function subtree(data: Record<string, string>): Promise<Record<string, string>> {
    const tree = await etcd.tree('/registry/');
    return Object.fromEntries(
      Object.keys(data)
        .filter((k) => k in tree)
        .map((k) => [k, tree[k]]),
    );
  }
  async function thisHostsKeys(): Promise<string[]> {
    const tree = await etcd.tree('/registry/');
    const mine = new Set(
      Object.entries(tree)
        .filter(([k, v]) => k.endsWith('/host') && v === HOST)
        .map(([k]) => k.split('/')[3]),
    );
    return Object.keys(tree).filter((k) => k.startsWith(`/registry/hosts/${HOST}/`) || [...mine].some((id) => k.includes(id)));
  }
  async function assertRunningMirrored(): Promise<void> {
    const expected = sorted(expectedMirror(await containers.inspect(runningId), HOST));
    await waitFor(
      'running container mirrored',
      async () => JSON.stringify(sorted(await heldFor(etcd, runningId))) === JSON.stringify(expected),
    );
  }
  function startDaemon(): DaemonProcess {
    return new DaemonProcess([], {
      EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
      EC_REGISTRATOR_HOST: HOST,
      EC_REGISTRATOR_LOG_LEVEL: 'debug',
    });
  }

  before(async () => {
    await ensureTestImage();
    etcd = await EtcdServer.start();
    runningId = await containers.run(['--label', 'role=web', TEST_IMAGE, 'sleep', '1000']);
  });
  beforeEach(async () => {
    await etcd.client.delete().prefix('/registry/');
    await put(otherHostData);
    await put(staleData);
    daemon = startDaemon();
    await daemon.waitForReconciliations(1);
  });
  afterEach(async () => {
    await daemon.kill();
  });
  after(async () => {
    await containers.removeAll();
    await etcd.stop();
  });

  it("startup reconcile removes this host's stale entry and leaves another host's data alone", async () => {
    await assertRunningMirrored();
    assert.deepEqual(await subtree(staleData), {});
    assert.deepEqual(await subtree(otherHostData), otherHostData);
  });

  it('SIGHUP restores what is missing and removes what is stale, twice in a row', async () => {
    await etcd.client.delete().key(`/registry/containers/${runningId}/image`);
    await put(staleData);
    // Self-healing reconciles too after a deletion, and may finish first: the signal's own line says the SIGHUP's work is done.
    daemon.signal('SIGHUP');
    await daemon.waitForLog('signal handled', 1, 30_000, (l) => l.signal === 'SIGHUP');
    await assertRunningMirrored();
    assert.deepEqual(await subtree(staleData), {});
    await etcd.client.delete().key(`/registry/labels/role/${runningId}`);
    await etcd.client.delete().key(`/registry/containers/${runningId}/labels/role`);
    daemon.signal('SIGHUP');
    await daemon.waitForLog('signal handled', 2, 30_000, (l) => l.signal === 'SIGHUP');
    await assertRunningMirrored();
    assert.deepEqual(await subtree(otherHostData), otherHostData);
    assert.equal(
      daemon.pid > 0 && (await Promise.race([daemon.exited, new Promise((r) => setTimeout(() => r('running'), 200))])),
      'running',
    );
  });

  it("SIGUSR2 purges every host's data and writes this host's running containers again", async () => {
    await etcd.client.put('/registry/somewhere/else').value('x');
    await daemon.reconcileOn('SIGUSR2', 30_000);
    await assertRunningMirrored();
    // Left: only this host's entries for containers running now (other test files may run containers too).
    const tree = await etcd.tree('/registry/');
    const running = new Set((await dockerCli(['ps', '-q', '--no-trunc'])).split('\n'));
    const idOf = (k: string) => (k.startsWith('/registry/hosts/') ? tree[k] : k.split('/').find((p) => /^[0-9a-f]{64}$/.test(p)));
    const strays = Object.keys(tree).filter((k) => !running.has(idOf(k) ?? '') || tree[`/registry/containers/${idOf(k)}/host`] !== HOST);
    assert.deepEqual(strays, []);
    assert.deepEqual(await subtree(otherHostData), {});
    assert.equal(tree['/registry/somewhere/else'], undefined);
  });

  it('SIGTERM deletes everything this host wrote (stale entries too), keeps others, exits 0', async () => {
    await put(staleData);
    // A name under this host's hosts/ key pointing at an entry that names another host: only the name is ours.
    await put({ [`/registry/hosts/${HOST}/imposter`]: OTHER_ID });
    await etcd.client.put('/registry-neighbour/key').value('kept');
    daemon.signal('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.deepEqual(await thisHostsKeys(), []);
    assert.deepEqual(await heldFor(etcd, runningId), {});
    assert.deepEqual(await subtree(staleData), {});
    assert.deepEqual(await subtree(otherHostData), otherHostData);
    assert.equal(await etcd.client.get('/registry-neighbour/key').string(), 'kept');
  });

  it('SIGHUP then SIGTERM still cleans up (node-cleanup stays installed after SIGHUP)', async () => {
    await daemon.reconcileOn('SIGHUP', 30_000);
    daemon.signal('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.deepEqual(await thisHostsKeys(), []);
    assert.deepEqual(await subtree(otherHostData), otherHostData);
  });

  it('SIGINT stops and leaves all data untouched, exit 0', async () => {
    await assertRunningMirrored();
    const before = await etcd.tree('/registry/');
    daemon.signal('SIGINT');
    assert.equal(await daemon.exited, 0);
    assert.deepEqual(await etcd.tree('/registry/'), before);
  });

  it('SIGINT while a write hangs on a frozen etcd still exits 0, within the shutdown deadline', async () => {
    await etcd.signal('SIGSTOP');
    try {
      const id = await containers.run([TEST_IMAGE, 'sleep', '1000']);
      // The event counter is shared by every container on the engine: the debug line names this one.
      await daemon.waitForLog('event', 1, 10_000, (l) => l.id === id);
      const t0 = Date.now();
      daemon.signal('SIGINT');
      assert.equal(await daemon.exited, 0);
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    } finally {
      await etcd.signal('SIGCONT');
    }
  });

  it("HUP waits for a USR2 that hangs on etcd; TERM does not wait: it abandons both, deletes this host's data once etcd answers, and exits 0", async () => {
    await etcd.signal('SIGSTOP');
    let t0 = 0;
    try {
      daemon.signal('SIGUSR2');
      // Which signal's work has begun, and in which order, only the log tells.
      await daemon.waitForLog('handling signal', 1, 10_000, (l) => l.signal === 'SIGUSR2');
      daemon.signal('SIGHUP');
      await sleep(200);
      assert.equal(
        daemon.count('handling signal', (l) => l.signal === 'SIGHUP'),
        0,
        'SIGHUP must wait for SIGUSR2',
      );
      t0 = Date.now();
      daemon.signal('SIGTERM');
      // The state cannot tell a stop under way from a lost Docker stream: the log line can.
      await daemon.waitForLog("stopping; deleting this host's data");
      await sleep(500);
    } finally {
      await etcd.signal('SIGCONT');
    }
    assert.equal(await daemon.exited, 0);
    assert.ok(Date.now() - t0 < 8_000, `SIGTERM took ${Date.now() - t0} ms`);
    // Nothing the abandoned USR2 refill or HUP would have written is left: the deletion came after them.
    assert.equal(
      daemon.count('signal handled', (l) => l.signal === 'SIGHUP'),
      0,
      'the SIGHUP was abandoned',
    );
    assert.deepEqual(await thisHostsKeys(), []);
  });

  it('a second SIGTERM during a shutdown that hangs on etcd exits at once with status 1', async () => {
    await etcd.signal('SIGSTOP');
    try {
      daemon.signal('SIGTERM');
      // The second SIGTERM must come during the shutdown: the log line marks its start.
      await daemon.waitForLog("stopping; deleting this host's data");
      const t0 = Date.now();
      daemon.signal('SIGTERM');
      assert.equal(await daemon.exited, 1);
      assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
    } finally {
      await etcd.signal('SIGCONT');
    }
    // Nothing was deleted: the running container's entry is still there.
    assert.ok(Object.keys(await heldFor(etcd, runningId)).length > 0);
  });

  it('SIGTERM while etcd is unreachable exits 1 and says what is left', async () => {
    await etcd.signal('SIGSTOP');
    try {
      daemon.signal('SIGTERM');
      assert.equal(await daemon.exited, 1);
    } finally {
      await etcd.signal('SIGCONT');
    }
    const report = daemon.lines.find((l) => l.message === 'shutdown incomplete');
    assert.match(
      String(report?.err),
      new RegExp(
        `could not delete all of this host's data \\(writer\\.mirror: .*; left in place: up to \\d+ container entries of host ${HOST} under /registry/containers/`,
      ),
    );
  });
});
