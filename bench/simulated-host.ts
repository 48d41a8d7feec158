import { setMaxListeners } from 'node:events';
import { ExponentialBackoff, IBackoff } from 'cockatiel';
import type { Etcd3 } from 'etcd3';
import { parseContainer } from '../src/docker/container';
import { FleetSize, healDelayMs } from '../src/daemon/heal-window';
import { EtcdMemberPausedError } from '../src/etcd/errors';
import { toRequestOp } from '../src/etcd/key-ops';
import { readHostEntries } from '../src/mirror/host-entries';
import { claimKey } from '../src/fleet/claim-record';
import { countClaims } from '../src/fleet/host-claim';
import { MirrorLayout, mirrorEntry, planMirror } from '../src/mirror/keys';
import { SimulatedFleet, simulatedContainer, simulatedHost } from '../test/support/fleet-fill';
import { pool } from './pool';

/** Where every daemon holds a lease-held claim on its host name; their count is the fleet's size. */
export { CLAIMS_PREFIX } from '../src/fleet/claim-record';

/** The daemon's retry of a failed reconciliation: cockatiel's ExponentialBackoff (decorrelated jitter, its default), 1 s to 30 s. */
const RETRY_BACKOFF = { initialDelay: 1_000, maxDelay: 30_000 };
/** Containers the daemon syncs at once (its default concurrency). */
const IN_FLIGHT = 16;
/** Keys per running container the daemon counts on writing back (keysPerHost of its heal window). */
const KEYS_PER_CONTAINER = 16;

/**
 * How the hosts heal: `fleet`, after a delay in the window sized by the claims counted and this
 * host's keys (the daemon's now); `one-second`, the window of a host that knows nothing of its
 * fleet (`healDelayMs(host, { hosts: 1, keysPerHost: 0 })`: the daemon's before).
 */
export type Schedule = 'fleet' | 'one-second';

/** How an etcd request of a simulated host failed (after its client's own retry). */
export type FailureKind = 'deadline exceeded' | 'too many requests' | 'unavailable' | 'held back by the breaker' | 'other';

export const FAILURE_KINDS: readonly FailureKind[] = [
  'deadline exceeded',
  'too many requests',
  'unavailable',
  'held back by the breaker',
  'other',
];

/** What one simulated host did in one refill. */
export interface HostRefill {
  host: string;
  /** Hosts its count-only read of the claims found (0 when that read failed). */
  hostsCounted: number;
  /** Its self-healing delay after the purge. */
  delayMs: number;
  /** Reconciliations it ran: 1 when the first wrote everything. */
  attempts: number;
  /** Container entries it wrote (transactions that etcd committed). */
  written: number;
  /** Transactions and reads that failed, by kind. */
  failures: Record<FailureKind, number>;
  /** Wall time (ms) its last entry was committed; undefined when it had not converged when stopped. */
  doneAt?: number;
}

function failureKind(err: unknown): FailureKind {
  if (err instanceof EtcdMemberPausedError) return 'held back by the breaker';
  const message = err instanceof Error ? err.message : String(err);
  if (/too many requests/i.test(message)) return 'too many requests';
  if (/DEADLINE_EXCEEDED|deadline exceeded/i.test(message)) return 'deadline exceeded';
  if (/UNAVAILABLE|unreachable/i.test(message)) return 'unavailable';
  return 'other';
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * One simulated host of the fleet healing after a purge as its daemon does: one count-only read
 * of the claims (the daemon's `countClaims`), its delay from the daemon's own `healDelayMs`, then a reconciliation of its
 * mirror entries: what it holds read back with the daemon's `readHostEntries`, and for each
 * container the daemon's `planMirror` against the entry the product's key builders give, one
 * transaction per container, 16 at a time. The first failure ends the attempt (the daemon's
 * writer then drops out of step and writes nothing more until the next reconciliation); the
 * next one comes after cockatiel's ExponentialBackoff, as the daemon's retry. Its own etcd
 * client has the daemon's options (call deadline, breaker, retry), so it fails as a daemon fails.
 */
export class SimulatedHost {
  readonly host: string;
  private readonly layout: MirrorLayout;

  constructor(
    private readonly fleet: SimulatedFleet,
    private readonly index: number,
    readonly client: Etcd3,
  ) {
    this.host = simulatedHost(fleet, index);
    this.layout = new MirrorLayout(fleet.dir ?? 'registry');
  }

  /** Its claim's key. */
  get claimKey(): string {
    return claimKey(this.host);
  }

  /** Heals from a purge answered at `purgedAt` (wall ms) until its entries are all written back, or `signal` aborts. */
  async heal(purgedAt: number, schedule: Schedule, fleetSignal: AbortSignal): Promise<HostRefill> {
    // A signal of its own, as a daemon has: the fleet's one signal with every waiting sync of 999
    // hosts listening made each listener added or removed a walk of tens of thousands (the bench's CPU).
    const own = new AbortController();
    setMaxListeners(0, own.signal);
    const signal = own.signal;
    if (fleetSignal.aborted) own.abort();
    else fleetSignal.addEventListener('abort', () => own.abort(), { once: true });
    const result: HostRefill = {
      host: this.host,
      hostsCounted: 0,
      delayMs: 0,
      attempts: 0,
      written: 0,
      failures: Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>,
    };
    try {
      result.hostsCounted = await countClaims(this.client);
    } catch (err) {
      result.failures[failureKind(err)]++;
    }
    const fleet: FleetSize =
      schedule !== 'one-second'
        ? { hosts: Math.max(1, result.hostsCounted), keysPerHost: this.fleet.containers * KEYS_PER_CONTAINER }
        : { hosts: 1, keysPerHost: 0 };
    result.delayMs = healDelayMs(this.host, fleet);
    await pause(purgedAt + result.delayMs - Date.now(), signal);
    let backoff: IBackoff<unknown> | undefined;
    while (!signal.aborted) {
      result.attempts++;
      if (await this.reconcile(result, signal)) {
        result.doneAt = Date.now();
        break;
      }
      backoff = backoff ? backoff.next(undefined) : new ExponentialBackoff(RETRY_BACKOFF).next();
      await pause(backoff.duration, signal);
    }
    return result;
  }

  /** One reconciliation; true when every entry is in etcd as it should be. */
  private async reconcile(result: HostRefill, signal: AbortSignal): Promise<boolean> {
    let held: Map<string, Map<string, string>>;
    try {
      held = (await readHostEntries(this.client, this.layout, this.host)).entries;
    } catch (err) {
      result.failures[failureKind(err)]++;
      return false;
    }
    let failed = false;
    const containers = Array.from({ length: this.fleet.containers }, (_, c) => c);
    await pool(containers, IN_FLIGHT, async (c) => {
      if (failed || signal.aborted) return;
      try {
        const info = simulatedContainer(this.fleet, this.index, c);
        const ops = planMirror(
          info.Id,
          held.get(info.Id) ?? new Map(),
          mirrorEntry(parseContainer(info), this.host, this.layout),
          this.layout,
        );
        if (ops.length === 0) return;
        await this.client.kv.txn({ success: ops.map(toRequestOp) });
        result.written++;
      } catch (err) {
        failed = true;
        result.failures[failureKind(err)]++;
      }
    });
    return !failed && !signal.aborted;
  }
}
