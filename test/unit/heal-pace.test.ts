import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { HEAL_PACE_FACTOR, healKeysPerSecond, healPacer, Pacer } from '../../src/daemon/heal-pace';
import { healWindowMs, REFILL_KEYS_PER_SECOND } from '../../src/daemon/heal-window';

const pace = (p: Pacer) => [p.perSecond, p.inFlight];

describe('healKeysPerSecond: a healing host writes at a few times its share of the fleet rate', () => {
  it('1,000 hosts x 1,600 keys: 20 keys/s, so a host takes 80 s of a 320 s window', () => {
    const fleet = { hosts: 1_000, keysPerHost: 1_600 };
    assert.equal(healKeysPerSecond(fleet), 20);
    assert.equal(healWindowMs(fleet), 320_000);
    assert.equal((fleet.keysPerHost / healKeysPerSecond(fleet)) * 1000, healWindowMs(fleet) / HEAL_PACE_FACTOR);
  });

  it('a host alone, or one that does not know its keys, writes at four times the whole planned rate', () => {
    assert.equal(healKeysPerSecond({ hosts: 1, keysPerHost: 1_600 }), HEAL_PACE_FACTOR * REFILL_KEYS_PER_SECOND);
    assert.equal(healKeysPerSecond({ hosts: 0, keysPerHost: 0 }), HEAL_PACE_FACTOR * REFILL_KEYS_PER_SECOND);
    assert.equal(healKeysPerSecond({ hosts: 200, keysPerHost: 0 }), 100);
  });

  it('a window clamped at 10 minutes still sees every host finish within a quarter of it', () => {
    const fleet = { hosts: 10_000, keysPerHost: 1_600 }; // 3,200 s of the planned rate
    assert.equal(healWindowMs(fleet), 600_000);
    assert.equal((fleet.keysPerHost / healKeysPerSecond(fleet)) * 1000, 150_000);
  });

  it('healPacer paces container syncs (the key rate over the keys of one container), half a second of them in flight', () => {
    assert.deepEqual(pace(healPacer({ hosts: 1_000, keysPerHost: 1_600 }, 16)), [1.25, 1]);
    // Two writers: twice the keys per container, a window twice as long (500 hosts: 320 s), the same pace of containers.
    assert.deepEqual(pace(healPacer({ hosts: 500, keysPerHost: 3_200 }, 32)), [1.25, 1]);
    assert.deepEqual(pace(healPacer({ hosts: 100, keysPerHost: 1_600 }, 16)), [12.5, 7]);
    assert.deepEqual(pace(healPacer({ hosts: 1, keysPerHost: 1_600 }, 16)), [1_250, 625]);
  });
});

describe('Pacer (mock timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  /** Which of `waits` have resolved, by index, after the microtasks of this moment ran. */
  async function settled(waits: Array<Promise<unknown>>): Promise<number[]> {
    const done: number[] = [];
    waits.forEach((w, i) => void w.then(() => done.push(i)));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    return done.sort((a, b) => a - b);
  }

  it('callers that ask together go one slot apart, in the order they asked; the first at once', async () => {
    const pacer = new Pacer(4); // 250 ms apart
    const waits = Array.from({ length: 5 }, () => pacer.wait());
    assert.deepEqual(await settled(waits), [0]);
    mock.timers.tick(249);
    assert.deepEqual(await settled(waits), [0]);
    mock.timers.tick(1);
    assert.deepEqual(await settled(waits), [0, 1]);
    mock.timers.tick(500);
    assert.deepEqual(await settled(waits), [0, 1, 2, 3]);
    mock.timers.tick(250);
    assert.deepEqual(await settled(waits), [0, 1, 2, 3, 4]);
  });

  it('after a pause longer than a slot, the next goes at once (no burst is saved up)', async () => {
    const pacer = new Pacer(10); // 100 ms apart
    await pacer.wait();
    mock.timers.tick(5_000);
    const waits = [pacer.wait(), pacer.wait(), pacer.wait()];
    assert.deepEqual(await settled(waits), [0]);
    mock.timers.tick(100);
    assert.deepEqual(await settled(waits), [0, 1]);
  });

  it('an abort lets every waiting caller go at once (the daemon is stopping)', async () => {
    const pacer = new Pacer(1);
    const stop = new AbortController();
    const waits = Array.from({ length: 3 }, () => pacer.wait(stop.signal));
    assert.deepEqual(await settled(waits), [0]);
    stop.abort();
    assert.deepEqual(await settled(waits), [0, 1, 2]);
    assert.deepEqual(await settled([pacer.wait(stop.signal)]), [0]);
  });

  it('slot(): at most inFlight holders at once, the next let in by a release, each also at its slot of the pace', async () => {
    const pacer = new Pacer(10, 2); // 100 ms apart, 2 in flight
    const slots = Array.from({ length: 4 }, () => pacer.slot());
    assert.deepEqual(await settled(slots), [0]);
    mock.timers.tick(100);
    assert.deepEqual(await settled(slots), [0, 1]);
    mock.timers.tick(1_000); // the pace would let two more go; the two in flight hold them back
    assert.deepEqual(await settled(slots), [0, 1]);
    const release = await slots[0];
    release();
    release(); // a second release frees nothing more
    assert.deepEqual(await settled(slots), [0, 1, 2]);
    (await slots[1])();
    assert.deepEqual(await settled(slots), [0, 1, 2]); // in, and then at its slot of the pace
    mock.timers.tick(100);
    assert.deepEqual(await settled(slots), [0, 1, 2, 3]);
  });

  it('an infinite pace never waits; a pace of 0 or less is refused', async () => {
    const pacer = new Pacer(Infinity);
    assert.deepEqual(await settled([pacer.wait(), pacer.wait(), pacer.wait()]), [0, 1, 2]);
    assert.throws(() => new Pacer(0), /above 0 per second \(got 0\)/);
    assert.throws(() => new Pacer(NaN), /above 0 per second/);
    assert.throws(() => new Pacer(1, 0), /at least 1 \(got 0\)/);
  });
});
