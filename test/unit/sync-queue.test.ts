import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyncQueue } from '../../src/daemon';
import { sleep } from '../support/wait';

describe('SyncQueue', () => {
  it('runs one job at a time per container, different containers concurrently up to the limit', async () => {
    const running = new Set<string>();
    let peak = 0;
    const log: string[] = [];
    const q = new SyncQueue(async (id) => {
      assert.ok(!running.has(id), `${id} ran twice at once`);
      running.add(id);
      peak = Math.max(peak, running.size);
      log.push(`start ${id}`);
      await sleep(20);
      running.delete(id);
    }, 3);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => q.request(id)));
    assert.equal(peak, 3);
    assert.equal(log.length, 5);
  });

  it('merges requests that arrive while a job for the same container waits, and re-runs after a running one', async () => {
    const runs: string[] = [];
    const q = new SyncQueue(async (id) => {
      runs.push(id);
      await sleep(20);
    }, 1);
    const first = q.request('a'); // starts at once
    const second = q.request('a'); // waits behind the running job
    const third = q.request('a'); // merged with the waiting one
    assert.equal(second, third);
    await Promise.all([first, second, third]);
    assert.deepEqual(runs, ['a', 'a']);
  });

  it('pause waits for running jobs and holds new ones until resume', async () => {
    const runs: string[] = [];
    const q = new SyncQueue(async (id) => {
      await sleep(30);
      runs.push(id);
    }, 4);
    const a = q.request('a');
    await q.pause();
    assert.deepEqual(runs, ['a']);
    const b = q.request('b');
    await sleep(60);
    assert.deepEqual(runs, ['a']);
    q.resume();
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
