import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Daemon } from '../../src/daemon';
import { parseEventLine } from '../../src/docker/events';
import type { EventWatch, WatcherHandlers } from '../../src/docker/watcher';
import { MemoryEngine, MemoryWriter, recordingLogger } from '../support/daemon-fakes';
import { waitFor } from '../support/wait';

const SERVICE = 'k3x9q8w7e6r5t4y3u2i1o0p9a';

/** docs/registrator.md, "Swarm services": a service's update event resyncs its tasks on this host. */
describe('Swarm service events', () => {
  it('parses a service update as the service to look at again; other service actions are ignored', () => {
    const line = (action: string, id: unknown = SERVICE) =>
      JSON.stringify({ Type: 'service', Action: action, Actor: { ID: id, Attributes: { name: 'web' } }, scope: 'swarm' });
    assert.deepEqual(parseEventLine(line('update')), { kind: 'service', serviceId: SERVICE });
    assert.deepEqual(parseEventLine(line('create')), { kind: 'ignored', reason: 'service action create' });
    assert.deepEqual(parseEventLine(line('remove')), { kind: 'ignored', reason: 'service action remove' });
    assert.equal(parseEventLine(line('update', 42)).kind, 'malformed');
    assert.equal(parseEventLine(line('update', 'a b')).kind, 'malformed');
  });

  it("syncs the updated service's running tasks, and nothing else", async () => {
    let handlers: WatcherHandlers | undefined;
    class SwarmEngine extends MemoryEngine {
      override watch(h: WatcherHandlers): EventWatch {
        handlers = h;
        return super.watch(h);
      }
      async serviceTasks(id: string): Promise<string[]> {
        return id === SERVICE ? ['t1', 't2'] : [];
      }
    }
    const engine = new SwarmEngine();
    engine.run('t1', 't2', 'other');
    const writer = new MemoryWriter('w');
    const daemon = new Daemon(engine, [writer], recordingLogger().log, { resyncSeconds: 0, retryDelayMs: 10 });
    try {
      await daemon.start();
      engine.inspected.length = 0;
      handlers!.onServiceEvent!(SERVICE);
      await waitFor('both tasks synced', () => engine.inspected.length >= 2, 2_000, 5);
      assert.deepEqual([...engine.inspected].sort(), ['t1', 't2']);
    } finally {
      await daemon.stop(false);
    }
  });
});
