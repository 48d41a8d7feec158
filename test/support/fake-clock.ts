/**
 * A faked clock for unit tests that check what does not happen after a delay: setTimeout,
 * setInterval and Date are node:test's mock timers, firing only when the test advances them.
 * setImmediate stays real, so promises and streams still run between ticks.
 */
import { mock } from 'node:test';

/** Fakes the clock until `resetClock()` (call it in an afterEach or a finally). */
export function fakeClock(): void {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
}

export function resetClock(): void {
  mock.timers.reset();
}

/** A few turns of the event loop: lets pending promises (and streams) run up to their next timer. */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Settles until `check` holds (no timer needed, the clock being faked); throws if it never does. */
export async function settleUntil(what: string, check: () => boolean, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

/** Advances the faked clock by `ms` in steps of `step`, settling after each, so timers set by code a timer woke fire too. */
export async function advance(ms: number, step = 1): Promise<void> {
  await settle();
  for (let done = 0; done < ms; done += step) {
    mock.timers.tick(Math.min(step, ms - done));
    await settle();
  }
}
