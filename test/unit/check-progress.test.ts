import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { checkProgress, PROGRESS_INTERVAL_MS, type ProgressStream } from '../../src/ops/check-progress';

/** A terminal as far as the progress line can tell: isTTY, a width, and every write kept. */
class FakeTty implements ProgressStream {
  readonly writes: string[] = [];
  constructor(
    readonly isTTY: boolean | undefined,
    readonly columns?: number,
  ) {}
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
}

const ERASE = '\x1b[K';

describe('check progress on stderr', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('on a terminal: one line rewritten in place, at most every interval and only when it changed, cleared at the end', () => {
    const tty = new FakeTty(true, 200);
    const progress = checkProgress(tty);
    // No pass begun yet (connecting, reading the revision): nothing to tell.
    mock.timers.tick(PROGRESS_INTERVAL_MS * 3);
    assert.deepEqual(tty.writes, []);
    progress.pass('127.0.0.1:2379', '/registry/');
    progress.page(1000);
    progress.page(1000);
    // Nothing before the first interval: a check that is over at once draws nothing.
    mock.timers.tick(PROGRESS_INTERVAL_MS - 1);
    assert.deepEqual(tty.writes, []);
    mock.timers.tick(1);
    assert.deepEqual(tty.writes, [`\rregistrator check: 2 pages read, 2,000 keys judged (/registry/ in etcd 127.0.0.1:2379)${ERASE}`]);
    // Pages between two draws are one draw; no change, no draw.
    progress.page(1000);
    progress.page(1000);
    progress.page(1000);
    mock.timers.tick(PROGRESS_INTERVAL_MS);
    mock.timers.tick(PROGRESS_INTERVAL_MS * 4);
    progress.pass('127.0.0.1:2379', '/_registrator/owners/');
    progress.page(17);
    mock.timers.tick(PROGRESS_INTERVAL_MS);
    progress.end();
    assert.deepEqual(tty.writes, [
      `\rregistrator check: 2 pages read, 2,000 keys judged (/registry/ in etcd 127.0.0.1:2379)${ERASE}`,
      `\rregistrator check: 5 pages read, 5,000 keys judged (/registry/ in etcd 127.0.0.1:2379)${ERASE}`,
      `\rregistrator check: 6 pages read, 5,017 keys judged (/_registrator/owners/ in etcd 127.0.0.1:2379)${ERASE}`,
      `\r${ERASE}`,
    ]);
    // Ended: the timer is gone, nothing more is drawn.
    progress.page(1);
    mock.timers.tick(PROGRESS_INTERVAL_MS * 10);
    assert.equal(tty.writes.length, 4);
  });

  it('at most a few updates a second, however fast pages come', () => {
    const tty = new FakeTty(true, 200);
    const progress = checkProgress(tty);
    progress.pass('e', '/registry/');
    for (let ms = 0; ms < 10_000; ms += 10) {
      progress.page(100);
      mock.timers.tick(10);
    }
    progress.end();
    assert.equal(tty.writes.length, 10_000 / PROGRESS_INTERVAL_MS + 1);
    assert.ok(1000 / PROGRESS_INTERVAL_MS <= 4);
  });

  it('the line is cut to the terminal width, so that \\r rewrites one line and never wraps', () => {
    const tty = new FakeTty(true, 40);
    const progress = checkProgress(tty);
    progress.pass('127.0.0.1:2379', '/registry/');
    progress.page(3);
    mock.timers.tick(PROGRESS_INTERVAL_MS);
    progress.end();
    assert.deepEqual(tty.writes, [`\r${'registrator check: 1 pages read, 3 keys judged'.slice(0, 39)}${ERASE}`, `\r${ERASE}`]);
  });

  it('ended before anything was drawn: nothing is written, not even the clearing', () => {
    const tty = new FakeTty(true, 80);
    const progress = checkProgress(tty);
    progress.pass('e', '/registry/');
    progress.page(5);
    progress.end();
    mock.timers.tick(PROGRESS_INTERVAL_MS * 4);
    assert.deepEqual(tty.writes, []);
  });

  for (const isTTY of [false, undefined]) {
    it(`not a terminal (isTTY ${isTTY}): nothing is ever written`, () => {
      const stream = new FakeTty(isTTY, 80);
      const progress = checkProgress(stream);
      progress.pass('e', '/registry/');
      for (let i = 0; i < 100; i++) progress.page(1000);
      mock.timers.tick(PROGRESS_INTERVAL_MS * 100);
      progress.end();
      assert.deepEqual(stream.writes, []);
    });
  }
});
