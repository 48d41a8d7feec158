import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Daemon, DaemonRequests } from '../../src/daemon';
import { Pacer } from '../../src/daemon/heal-pace';
import { waitFor } from '../support/wait';
import { Gate, MemoryEngine, MemoryWriter, recordingLogger } from '../support/daemon-fakes';

/** A pace the test holds: each slot waits for its own gate. */
class HeldPacer extends Pacer {
  readonly gates: Gate[] = [];
  constructor() {
    super(3);
  }
  override async slot(): Promise<() => void> {
    const gate = new Gate();
    this.gates.push(gate);
    await gate.promise;
    return () => undefined;
  }
}

const running: Daemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop(false).catch(() => undefined)));
});

function pacedDaemon(pacer: Pacer) {
  const engine = new MemoryEngine();
  const writer = new MemoryWriter('mirror');
  const { log, lines } = recordingLogger();
  let requests!: DaemonRequests;
  let paceAsked = 0;
  const daemon = new Daemon(
    engine,
    (r) => {
      requests = r;
      return [writer];
    },
    log,
    {
      resyncSeconds: 0,
      retryDelayMs: 10,
      healDelayMs: 0,
      healPace: async () => {
        paceAsked++;
        return pacer;
      },
    },
  );
  running.push(daemon);
  const syncs = () => writer.calls.filter((c) => c.startsWith('mirror sync ')).length;
  const reconciled = () => lines.filter((l) => l.message === 'reconciled');
  return { engine, writer, daemon, requests: () => requests, syncs, reconciled, paceAsked: () => paceAsked };
}

describe('Daemon: a heal is paced, events and routine reconciliations are not', () => {
  it("a self-heal syncs each container at its slot of the pace; an event's sync meanwhile is not held back", async () => {
    const pacer = new HeldPacer();
    const d = pacedDaemon(pacer);
    d.engine.run('a', 'b', 'c');
    await d.daemon.start();
    assert.equal(d.syncs(), 3);
    d.requests().heal('/registry/containers/a deleted');
    await waitFor('the three syncs to ask for their slot', () => pacer.gates.length === 3, 2_000, 2);
    assert.equal(d.syncs(), 3);
    d.engine.push({ id: 'b', action: 'start' });
    await waitFor("the event's sync", () => d.syncs() === 4, 2_000, 2);
    pacer.gates[0].open();
    await waitFor('the first paced sync', () => d.syncs() === 5, 2_000, 2);
    assert.equal(d.reconciled().length, 1);
    pacer.gates[1].open();
    pacer.gates[2].open();
    await waitFor('the self-heal', () => d.reconciled().length === 2, 2_000, 2);
    assert.equal(d.syncs(), 7);
    assert.deepEqual(
      d.reconciled().map((l) => [l.reason, l.syncsPerSecond]),
      [
        ['subscribed', undefined],
        ['self-heal', 3],
      ],
    );
    assert.equal(d.paceAsked(), 1);
  });

  it('the start and a SIGHUP ask for no pace', async () => {
    const d = pacedDaemon(new HeldPacer());
    d.engine.run('a', 'b');
    await d.daemon.start();
    await d.daemon.reconcile('SIGHUP');
    assert.equal(d.syncs(), 4);
    assert.equal(d.paceAsked(), 0);
  });
});
