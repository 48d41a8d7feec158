/**
 * The one policy for waiting between tries after a failure (cockatiel's backoffs): the engine's
 * reconnect, the scheduler's retries, a writer's admission and the host-name claim all take theirs here.
 * Each returns the first wait; `.next()` gives the one after it.
 */
import { ConstantBackoff, ExponentialBackoff, noJitterGenerator, type IBackoff } from 'cockatiel';

export type Backoff = IBackoff<unknown>;

/**
 * Capped exponential: `initialMs` first, then about doubled per failure up to `maxMs`. `jitter: true`
 * (cockatiel's decorrelated jitter) spreads retries of many daemons apart; `false` doubles exactly.
 */
export function exponentialBackoff(initialMs: number, maxMs: number, jitter = true): Backoff {
  return new ExponentialBackoff({ initialDelay: initialMs, maxDelay: maxMs, ...(jitter ? {} : { generator: noJitterGenerator }) }).next();
}

/** The same wait every time (an interval the user chose). */
export function constantBackoff(intervalMs: number): Backoff {
  return new ConstantBackoff(intervalMs).next();
}
