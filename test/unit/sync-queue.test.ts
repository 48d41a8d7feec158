import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyncQueue } from '../../src/daemon';

/** A job's end, released by the test: no clock involved. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** Lets every pending promise callback run (the queue starts jobs from its own callbacks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SyncQueue', () => {
  it('runs one job at a time per container, different containers concurrently up to the limit', async () => {
    const running = new Set<string>();
    let peak = 0;
    const log: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const q = new SyncQueue(async (id) => {
      assert.ok(!running.has(id), `${id} ran twice at once`);
      running.add(id);
      peak = Math.max(peak, running.size);
      log.push(`start ${id}`);
      const g = gate();
      gates.set(id, g);
      await g.wait;
      running.delete(id);
    }, 3);
    const all = Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => q.request(id)));
    await settle();
    assert.deepEqual(log, ['start a', 'start b', 'start c'], 'three at once');
    gates.get('a')!.open();
    await settle();
    assert.deepEqual(log, ['start a', 'start b', 'start c', 'start d']);
    for (const id of ['b', 'c', 'd']) gates.get(id)!.open();
    await settle();
    gates.get('e')!.open();
    await all;
    assert.equal(peak, 3);
    assert.equal(log.length, 5);
  });

  it('merges requests that arrive while a job for the same container waits, and re-runs after a running one', async () => {
    const runs: string[] = [];
    const gates: Array<ReturnType<typeof gate>> = [];
    const q = new SyncQueue(async (id) => {
      runs.push(id);
      const g = gate();
      gates.push(g);
      await g.wait;
    }, 1);
    const first = q.request('a'); // starts at once
    const second = q.request('a'); // waits behind the running job
    const third = q.request('a'); // merged with the waiting one
    assert.equal(second, third);
    await settle();
    assert.deepEqual(runs, ['a']);
    gates[0].open();
    await settle();
    gates[1].open();
    await Promise.all([first, second, third]);
    assert.deepEqual(runs, ['a', 'a']);
  });

  it('pause waits for running jobs and holds new ones until resume', async () => {
    const runs: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const q = new SyncQueue(async (id) => {
      const g = gate();
      gates.set(id, g);
      await g.wait;
      runs.push(id);
    }, 4);
    const a = q.request('a');
    await settle();
    let paused = false;
    const pausing = q.pause().then(() => (paused = true));
    await settle();
    assert.equal(paused, false, 'pause waits for the running job');
    gates.get('a')!.open();
    await pausing;
    assert.deepEqual(runs, ['a']);
    const b = q.request('b');
    await settle();
    assert.equal(gates.has('b'), false, 'held while paused');
    assert.deepEqual(runs, ['a']);
    q.resume();
    await settle();
    gates.get('b')!.open();
    await Promise.all([a, b]);
    assert.deepEqual(runs, ['a', 'b']);
  });

  it('reports a failed job to its requester and keeps serving others', async () => {
    const q = new SyncQueue(async (id) => {
      if (id === 'bad') throw new Error('boom');
    }, 2);
    await assert.rejects(q.request('bad'), /boom/);
    await q.request('good');
    assert.equal(q.size, 0);
  });
});
