import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Daemon, DaemonOptions, DaemonRequests, HostGate, StoppingError, WriterUnreachableError } from '../../src/daemon';
import { EtcdHistory } from '../../src/etcd/history';
import type { ClaimStatus } from '../../src/fleet/host-claim';
import type { Writer } from '../../src/writer';
import { advance, fakeClock, resetClock, settleUntil } from '../support/fake-clock';
import { waitFor } from '../support/wait';
import { Gate, MemoryEngine, MemoryWriter, recordingLogger, RecordingObserver } from '../support/daemon-fakes';

const running: Daemon[] = [];

/** A daemon on an in-memory engine; stopped (keeping data) after the test. */
function daemonWith(writers: Writer[] | ((requests: DaemonRequests) => Writer[]), options: Partial<DaemonOptions> = {}) {
  const engine = new MemoryEngine();
  const observer = new RecordingObserver();
  const { log, lines } = recordingLogger();
  const daemon = new Daemon(engine, writers, log, { resyncSeconds: 0, retryDelayMs: 10, observer, ...options });
  running.push(daemon);
  /** The reasons of the reconciliations that succeeded, in order. */
  const reconciled = () => lines.filter((l) => l.message === 'reconciled').map((l) => l.reason);
  return { engine, observer, daemon, lines, reconciled };
}

/** Longer than any wait the daemon schedules (the retry backoff is capped at 30 s): nothing more is due after it. */
const LONG_AFTER_MS = 60_000;

afterEach(async () => {
  resetClock();
  await Promise.all(running.splice(0).map((d) => d.stop(false).catch(() => undefined)));
});

const syncsOf = (writer: MemoryWriter) => writer.calls.filter((c) => c.startsWith(`${writer.name} sync `)).length;

describe('Daemon: reconciliations', () => {
  it('first reconciles every running container and every container a writer holds', async () => {
    const writer = new MemoryWriter('mirror');
    const { engine, observer, daemon } = daemonWith([writer]);
    engine.run('web', 'db');
    engine.kill('stopped');
    for (const id of ['stopped', 'gone']) writer.store.set(id, { id, container: null });
    assert.deepEqual(daemon.status(), {
      dockerConnected: false,
      firstReconcileDone: false,
      writers: [{ name: 'mirror', state: 'out-of-step', containersHeld: 0 }],
    });
    await daemon.start();
    assert.deepEqual([...engine.inspected].sort(), ['db', 'gone', 'stopped', 'web']);
    assert.deepEqual(writer.stored(), ['db', 'web']);
    assert.deepEqual(daemon.status(), {
      dockerConnected: true,
      firstReconcileDone: true,
      writers: [{ name: 'mirror', state: 'in-step', containersHeld: 2 }],
    });
    assert.deepEqual(observer.reconciliations, [true]);
    assert.deepEqual(observer.writes, Array(4).fill('mirror ok'));
  });

  it('merges requests made during a reconciliation into one more run', async () => {
    const writer = new MemoryWriter('mirror');
    const { engine, daemon, reconciled } = daemonWith([writer]);
    engine.run('web');
    await daemon.start();
    writer.loadGate = new Gate();
    const first = daemon.reconcile('one');
    const second = daemon.reconcile('two');
    const third = daemon.reconcile('three');
    assert.notEqual(first, second);
    assert.equal(second, third);
    writer.loadGate.open();
    await Promise.all([first, second, third]);
    assert.equal(writer.calls.filter((c) => c === 'mirror loadHeld').length, 3);
    await waitFor('three reconciliations logged', () => reconciled().length === 3, 2_000, 2);
    assert.deepEqual(reconciled(), ['subscribed', 'one', 'two']);
  });

  it('takes a writer whose write failed out of step, and a retry reconciliation brings it back', async () => {
    const mirror = new MemoryWriter('mirror');
    const other = new MemoryWriter('other');
    const { engine, observer, daemon, reconciled } = daemonWith([mirror, other]);
    await daemon.start();
    mirror.failSyncs = 1;
    // The retry waits here, so the state between the failure and the retry can be seen.
    mirror.loadGate = new Gate();
    engine.run('web');
    engine.push({ id: 'web', action: 'start' });
    await waitFor('the failed write', () => observer.writes.includes('mirror failed'), 2_000, 2);
    assert.deepEqual(
      daemon.status().writers.map((w) => w.state),
      ['out-of-step', 'in-step'],
    );
    assert.deepEqual(other.stored(), ['web']);
    assert.deepEqual(mirror.stored(), []);
    mirror.loadGate.open();
    await waitFor('the mirror back in step', () => daemon.status().writers[0].state === 'in-step', 2_000, 2);
    assert.deepEqual(mirror.stored(), ['web']);
    await waitFor('the retry logged', () => reconciled().includes('retry'), 2_000, 2);
    assert.deepEqual(observer.reconciliations, [true, true]);
  });

  it('reconciles again after a failed reconciliation, until one succeeds', async () => {
    const writer = new MemoryWriter('mirror');
    const { engine, observer, daemon, reconciled } = daemonWith([writer]);
    engine.run('web');
    writer.failSyncs = 2;
    await daemon.start();
    assert.deepEqual(observer.reconciliations, [false]);
    assert.equal(daemon.status().firstReconcileDone, true);
    await waitFor('a reconciliation that succeeds', () => reconciled().length === 1, 2_000, 2);
    assert.deepEqual(reconciled(), ['retry']);
    assert.deepEqual(observer.reconciliations, [false, false, true]);
    assert.deepEqual(writer.stored(), ['web']);
  });

  it('purges every writer, then reconciles', async () => {
    const calls: string[] = [];
    const a = new MemoryWriter('a', { calls });
    const b = new MemoryWriter('b', { calls });
    const { engine, daemon } = daemonWith([a, b]);
    engine.run('web');
    await daemon.start();
    calls.length = 0;
    await daemon.purgeAndRefill();
    assert.deepEqual(calls.slice(0, 2).sort(), ['a purgeAll', 'b purgeAll']);
    assert.deepEqual(calls.slice(2).sort(), ['a loadHeld', 'a sync web', 'b loadHeld', 'b sync web']);
    assert.deepEqual([a.stored(), b.stored()], [['web'], ['web']]);
  });
});

describe('Daemon: events', () => {
  it('syncs the container a start or die event names', async () => {
    const writer = new MemoryWriter('mirror');
    const { engine, observer, daemon } = daemonWith([writer]);
    await daemon.start();
    engine.run('web');
    engine.push({ id: 'web', action: 'start' });
    await waitFor('web written', () => writer.store.has('web'), 2_000, 2);
    engine.kill('web');
    engine.push({ id: 'web', action: 'die' });
    await waitFor('web removed', () => !writer.store.has('web'), 2_000, 2);
    assert.deepEqual(observer.events, ['start', 'die']);
    assert.deepEqual(engine.inspected, ['web', 'web']);
  });

  it('ignores a network event for a container that is not running, and syncs one that runs', async () => {
    const writer = new MemoryWriter('mirror');
    const { engine, observer, daemon } = daemonWith([writer]);
    engine.run('web');
    await daemon.start();
    engine.inspected.length = 0;
    engine.push({ id: 'idle', action: 'connect' });
    engine.push({ id: 'idle', action: 'disconnect' });
    assert.deepEqual(engine.inspected, []);
    assert.deepEqual(observer.events, []);
    engine.push({ id: 'web', action: 'connect' });
    assert.deepEqual(engine.inspected, ['web']);
    assert.deepEqual(observer.events, ['connect']);
  });
});

describe('Daemon: writer admission', () => {
  it('leaves a writer whose first ping fails unreachable, and admits it with a reconciliation once it answers', async () => {
    const late = new MemoryWriter('late', { ping: true });
    const mirror = new MemoryWriter('mirror');
    late.reachable = false;
    const { engine, daemon, reconciled } = daemonWith([late, mirror], { startupRetry: { attempts: -1, intervalMs: 5 } });
    engine.run('web');
    await daemon.start();
    assert.deepEqual(
      daemon.status().writers.map((w) => [w.name, w.state]),
      [
        ['late', 'unreachable'],
        ['mirror', 'in-step'],
      ],
    );
    assert.deepEqual(late.calls, []);
    await waitFor('a few more pings', () => late.pings >= 3, 2_000, 2);
    late.reachable = true;
    await waitFor('late in step', () => daemon.status().writers[0].state === 'in-step', 2_000, 2);
    assert.deepEqual(late.stored(), ['web']);
    await waitFor('its reconciliation logged', () => reconciled().includes('late reachable'), 2_000, 2);
  });

  it('gives up on a writer still unreachable after -retry-attempts (onFatal)', async () => {
    const late = new MemoryWriter('late', { ping: true });
    late.reachable = false;
    const fatal: Error[] = [];
    const { daemon } = daemonWith([late], { startupRetry: { attempts: 2, intervalMs: 5 }, onFatal: (err) => fatal.push(err) });
    fakeClock();
    await daemon.start();
    assert.equal(late.pings, 1);
    await advance(4);
    assert.equal(late.pings, 1, 'no ping before -retry-interval');
    await advance(1);
    assert.equal(late.pings, 2);
    assert.equal(fatal.length, 0);
    await advance(5);
    await settleUntil('onFatal', () => fatal.length > 0);
    assert.ok(fatal[0] instanceof WriterUnreachableError);
    assert.equal(fatal[0].message, 'late still unreachable after 3 attempts (-retry-attempts 2): late refused');
    await advance(LONG_AFTER_MS, 100);
    assert.equal(late.pings, 3);
    assert.equal(fatal.length, 1);
    assert.equal(daemon.status().writers[0].state, 'unreachable');
  });
});

describe('Daemon: what writers ask for', () => {
  it('heals once after the delay, however many reports arrive meanwhile', async () => {
    const writer = new MemoryWriter('mirror');
    let requests!: DaemonRequests;
    const { engine, daemon, reconciled, lines } = daemonWith(
      (r) => {
        requests = r;
        return [writer];
      },
      { healDelayMs: 20 },
    );
    engine.run('web');
    fakeClock();
    await daemon.start();
    writer.store.delete('web');
    requests.heal('/mirror/web deleted');
    requests.heal('/mirror/web/port deleted');
    daemon.heal('/mirror/web/ip deleted');
    await advance(19);
    assert.deepEqual(reconciled(), ['subscribed'], 'not before the delay');
    assert.deepEqual(writer.stored(), []);
    await advance(1);
    await settleUntil('the self-heal', () => reconciled().length === 2);
    await advance(LONG_AFTER_MS, 100);
    assert.deepEqual(reconciled(), ['subscribed', 'self-heal']);
    assert.deepEqual(writer.stored(), ['web']);
    assert.equal(lines.filter((l) => String(l.message).includes('writing it back')).length, 1);
  });

  it('ignores reports of deleted data with self-healing off', async () => {
    const writer = new MemoryWriter('mirror');
    const { daemon, reconciled } = daemonWith([writer]);
    fakeClock();
    await daemon.start();
    daemon.heal('/mirror/web deleted');
    await advance(LONG_AFTER_MS, 100);
    assert.deepEqual(reconciled(), ['subscribed']);
  });

  it('reconciles when a writer asks', async () => {
    const writer = new MemoryWriter('mirror');
    let requests!: DaemonRequests;
    const { daemon, reconciled } = daemonWith((r) => {
      requests = r;
      return [writer];
    });
    await daemon.start();
    requests.reconcile('lease lost');
    await waitFor('the requested reconciliation', () => reconciled().length === 2, 2_000, 2);
    assert.deepEqual(reconciled(), ['subscribed', 'lease lost']);
  });
});

describe('Daemon: stop', () => {
  it('keeping data, abandons a reconciliation under way: no more syncs, no retry', async () => {
    const writer = new MemoryWriter('mirror');
    const { engine, observer, daemon, lines } = daemonWith([writer], { concurrency: 1 });
    engine.run('a', 'b', 'c', 'd');
    fakeClock();
    await daemon.start();
    writer.syncGate = new Gate();
    const reconciliation = daemon.reconcile('SIGHUP');
    await settleUntil('a sync in flight', () => syncsOf(writer) === 5);
    const stopping = daemon.stop(false);
    writer.syncGate.open();
    await stopping;
    await assert.rejects(reconciliation, StoppingError);
    await advance(LONG_AFTER_MS, 100);
    assert.equal(syncsOf(writer), 5);
    const abandoned = lines.filter((l) => l.message === 'reconciliation abandoned: stopping').map((l) => l.reason);
    assert.deepEqual(abandoned, ['SIGHUP'], 'no retry started after the stop');
    assert.equal(writer.calls.filter((c) => c === 'mirror loadHeld').length, 2);
    assert.deepEqual(observer.reconciliations, [true]);
    assert.equal(daemon.status().dockerConnected, false);
    assert.equal(writer.closed, true);
    assert.deepEqual(writer.stored(), ['a', 'b', 'c', 'd']);
  });

  it('deleting data, asks every writer to remove it and reports those that could not', async () => {
    const a = new MemoryWriter('a');
    const b = new MemoryWriter('b');
    b.removeError = new Error('etcd down');
    const { engine, daemon } = daemonWith([a, b]);
    engine.run('web');
    await daemon.start();
    await assert.rejects(daemon.stop(true), {
      message: "could not delete all of this host's data (b: etcd down; left in place: 1 containers in b)",
    });
    assert.deepEqual(a.stored(), []);
    assert.deepEqual(b.calls.slice(-1), ['b removeHostData']);
    assert.deepEqual([a.closed, b.closed], [true, true]);
  });

  it('deleting data, removes it from a writer never admitted too', async () => {
    const late = new MemoryWriter('late', { ping: true });
    late.reachable = false;
    late.store.set('old', { id: 'old', container: null });
    const { daemon } = daemonWith([late], { startupRetry: { attempts: -1, intervalMs: 5 } });
    await daemon.start();
    await daemon.stop(true);
    assert.deepEqual(late.calls, ['late removeHostData']);
    assert.deepEqual(late.stored(), []);
  });
});

/** A host-name claim the test holds or gives to another daemon by hand. */
class TestClaim implements HostGate {
  state: ClaimStatus['state'] = 'claiming';
  released = false;
  private resolveJudged!: () => void;
  private readonly judgedOnce = new Promise<void>((resolve) => (this.resolveJudged = resolve));
  get held(): boolean {
    return this.state === 'held';
  }
  set(state: ClaimStatus['state']): void {
    this.state = state;
    this.resolveJudged();
  }
  status(): ClaimStatus {
    return { state: this.state, host: 'h', ...(this.state === 'conflict' ? { reason: 'host name h is claimed by another daemon' } : {}) };
  }
  judged(): Promise<void> {
    return this.judgedOnce;
  }
  async reassert(): Promise<void> {}
  async release(): Promise<void> {
    this.released = true;
  }
}

describe('Daemon: the host-name claim', () => {
  it('waits for the claim before the first reconciliation; held, it writes', async () => {
    const writer = new MemoryWriter('mirror');
    const claim = new TestClaim();
    const { engine, daemon } = daemonWith([writer], { hostClaim: claim });
    engine.run('web');
    fakeClock();
    const started = daemon.start();
    // Up to the claim wait's end (1 s), a reconciliation waits for the judgement.
    await advance(999, 10);
    assert.deepEqual(writer.calls, [], 'nothing before the claim is judged');
    assert.deepEqual(engine.inspected, []);
    claim.set('held');
    await started;
    assert.deepEqual(writer.stored(), ['web']);
  });

  it('in conflict: no load, no write, SIGUSR2 purges nothing, SIGTERM deletes nothing, and the claim is given up on stop', async () => {
    const writer = new MemoryWriter('mirror');
    const claim = new TestClaim();
    claim.set('conflict');
    const { engine, daemon } = daemonWith([writer], { hostClaim: claim });
    engine.run('web');
    writer.store.set('old', { id: 'old', container: null });
    await daemon.start();
    await daemon.reconcile('SIGHUP');
    await daemon.purgeAndRefill();
    daemon.heal('a key deleted');
    assert.equal(daemon.status().hostClaim?.state, 'conflict');
    await daemon.stop(true);
    assert.deepEqual(
      writer.calls.filter((c) => !c.endsWith('close')),
      [],
    );
    assert.deepEqual([...writer.store.keys()], ['old']);
    assert.equal(claim.released, true);
  });

  it('takes over once the claim is held: a reconciliation writes, and SIGTERM then deletes', async () => {
    const writer = new MemoryWriter('mirror');
    const claim = new TestClaim();
    claim.set('conflict');
    const { engine, daemon } = daemonWith([writer], { hostClaim: claim });
    engine.run('web');
    await daemon.start();
    assert.deepEqual(writer.stored(), []);
    claim.set('held');
    await daemon.reconcile('host name claimed');
    assert.deepEqual(writer.stored(), ['web']);
    await daemon.stop(true);
    assert.ok(writer.calls.includes('mirror removeHostData'));
  });
});

describe('Daemon: etcd history', () => {
  it('a change is shown as recovering until a reconciliation after it succeeded, which reloads every writer', async () => {
    const writer = new MemoryWriter('mirror');
    const history = new EtcdHistory();
    const { engine, daemon, reconciled } = daemonWith([writer], { history, repairDelayMs: 5 });
    engine.run('web');
    await daemon.start();
    const loads = writer.calls.filter((c) => c.endsWith('loadHeld')).length;
    writer.loadGate = new Gate();
    history.observe({ cluster_id: '1', revision: '50' });
    history.observe({ cluster_id: '2', revision: '3' });
    assert.equal(daemon.status().etcdHistory?.state, 'recovering');
    assert.equal(daemon.status().etcdHistory?.last?.kind, 'cluster');
    await waitFor('the repair to load', () => writer.calls.filter((c) => c.endsWith('loadHeld')).length > loads, 2_000, 2);
    assert.equal(daemon.status().etcdHistory?.state, 'recovering', 'still loading');
    writer.loadGate.open();
    await waitFor('recovered', () => daemon.status().etcdHistory?.state === 'steady', 2_000, 2);
    assert.ok(reconciled().some((r) => String(r).startsWith('etcd history changed')));
    assert.equal(daemon.status().etcdHistory?.changes, 1);
  });
});
