import { FleetSize, healWindowMs, REFILL_KEYS_PER_SECOND } from './heal-window';

/**
 * How fast a host writes back what vanished (self-healing, a history change, a SIGUSR2 refill).
 * The heal window spreads the hosts' starts; pacing spreads each host's writes, so hosts whose
 * starts fall close together do not burst at etcd together (a read waited over 2 s behind such
 * bursts in the refill benchmark, docs/performance.md). Routine syncs (events) are never paced.
 */

/**
 * A healing host writes at this many times its share of REFILL_KEYS_PER_SECOND: it finishes a
 * quarter of a window after its start, and the fleet as a whole still writes at about the planned rate.
 */
export const HEAL_PACE_FACTOR = 4;

/**
 * Syncs a paced host keeps in flight: as many as its pace starts in this long. When etcd answers
 * slower than that, the host slows with it instead of queueing more (a closed loop): at 1,000 hosts
 * the whole fleet then has a few hundred transactions at etcd, not thousands.
 */
const HEAL_IN_FLIGHT_SECONDS = 0.5;

/** Keys per second one healing host writes at, in a fleet of this size. A host alone is all but unpaced (40,000 keys/s). */
export function healKeysPerSecond(fleet: FleetSize): number {
  const share = REFILL_KEYS_PER_SECOND / Math.max(1, fleet.hosts);
  // A window clamped at its longest is shorter than the fleet needs: the host keeps to it still.
  const withinWindow = (Math.max(0, fleet.keysPerHost) * 1000) / healWindowMs(fleet);
  return HEAL_PACE_FACTOR * Math.max(share, withinWindow);
}

/**
 * Spaces work out at a steady rate: each `wait()` resolves at the next free slot, `1 / perSecond`
 * seconds after the one before it; the first, and any after a pause longer than a slot, at once.
 * A slot is taken when asked for, so callers that ask together go one after another, in the order
 * they asked. `slot()` also keeps at most `inFlight` callers' work under way. Neither cockatiel (retry, breaker, bulkhead, timeout) nor etcd3 has a rate limiter,
 * hence these few lines.
 */
export class Pacer {
  private nextAt = 0;
  private running = 0;
  private readonly queued: Array<() => void> = [];

  /** `perSecond`: Infinity paces nothing. `inFlight`: how many `slot()` holders at once. */
  constructor(
    readonly perSecond: number,
    readonly inFlight = Infinity,
  ) {
    if (!(perSecond > 0)) throw new RangeError(`a pace must be above 0 per second (got ${perSecond})`);
    if (!(inFlight >= 1)) throw new RangeError(`work in flight must be at least 1 (got ${inFlight})`);
  }

  /**
   * Resolves, with its release, once fewer than `inFlight` holders run and this caller's slot of the
   * pace has come (at once when `signal` aborts). Call the release when the work has settled.
   */
  async slot(signal?: AbortSignal): Promise<() => void> {
    if (this.running >= this.inFlight && !signal?.aborted)
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.queued.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    this.running++;
    await this.wait(signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.queued.shift()?.();
    };
  }

  /** Milliseconds between two slots. */
  get intervalMs(): number {
    return 1000 / this.perSecond;
  }

  /** Resolves at this caller's slot, or at once when `signal` aborts (the caller then finds the work stopped). */
  wait(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    if (at <= now || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, at - now);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * The pace of a healing host's container syncs: healKeysPerSecond over the keys one container
 * takes (its estimate, as the heal window's keysPerHost is), with HEAL_IN_FLIGHT_SECONDS of it in
 * flight. The daemon and the refill benchmark's
 * simulated hosts both pace by it.
 */
export function healPacer(fleet: FleetSize, keysPerContainer: number): Pacer {
  const perSecond = healKeysPerSecond(fleet) / Math.max(1, keysPerContainer);
  return new Pacer(perSecond, Math.max(1, Math.ceil(perSecond * HEAL_IN_FLIGHT_SECONDS)));
}
