import { EtcdLeaseInvalidError, type Etcd3, type Watcher } from 'etcd3';
import type { IBackoff } from 'cockatiel';
import { exponentialBackoff } from '../retry-backoff';
import { LeaseKeeper } from '../etcd/lease-keeper';
import { historyFor } from '../etcd/history';
import { prefixEnd } from '../etcd/key-ops';
import type { EngineIdentity } from '../docker/engine-info';
import type { Logger } from '../log';
import { claimKey, CLAIMS_PREFIX, ClaimRecord, describeClaim, parseClaim } from './claim-record';

/** Seconds a claim outlives its daemon (a SIGKILL, a crash): the longest a successor on another engine waits. */
const CLAIM_TTL_SECONDS = 10;
/** How often the claim is read back: the same read tells etcd's cluster ID and revision (etcd/history.ts). */
const CLAIM_PROBE_MS = 1_000;

/** Waits between tries while etcd does not answer a judgement: short, so a restart after etcd is back is quick. */
function claimBackoff(): IBackoff<unknown> {
  return exponentialBackoff(200, 5_000);
}

/** Where this daemon stands with its host name. */
type ClaimState =
  /** Not yet judged (etcd not answered yet, or the claim is being taken again after its lease was lost). */
  | 'claiming'
  /** This daemon holds the host name: it writes. */
  | 'held'
  /** Another live daemon, of another engine, holds it: this one writes and deletes nothing. */
  | 'conflict';

export interface ClaimStatus {
  state: ClaimState;
  host: string;
  /** The claim of the daemon that holds the host name instead of this one (state `conflict`). */
  holder?: ClaimRecord;
  /** Why this daemon does not write, for /healthz and the log; absent while held. */
  reason?: string;
}

export interface HostClaimOptions {
  /** What this daemon claims with: its host name and where it runs (the engine is given to start()). */
  record: Omit<ClaimRecord, 'engine'>;
  /** Told whenever the claim is taken (at start, or after a conflict or a lost lease). */
  onHeld(): void;
  log: Logger;
}

/**
 * One daemon per host name (docs/fleet.md): a lease-held key `/_registrator/hosts/<host>` naming
 * the engine this daemon serves. Taken when free or held by the same engine (a restart takes over
 * at once); otherwise this daemon stands by, watching the key, and takes it once the holder's lease
 * ends. Read back every CLAIM_PROBE_MS, which also feeds the client's etcd history.
 */
export class HostClaim {
  private current: ClaimStatus;
  private readonly key: string;
  private value = '';
  private record?: ClaimRecord;
  private readonly lease: LeaseKeeper;
  private watcher?: Promise<Watcher | undefined>;
  private probeTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private backoff = claimBackoff();
  private attempting?: Promise<void>;
  private again = false;
  private closed = false;
  /** Another daemon of this same engine overwrote the claim: it is the newer one, this one stands by until the claim ends. */
  private yielded = false;
  private judgedOnce = false;
  private resolveJudged!: () => void;
  private readonly firstJudged = new Promise<void>((resolve) => (this.resolveJudged = resolve));
  /** What was last logged about a conflict, so it is said once. */
  private said = '';

  constructor(
    private readonly etcd: Etcd3,
    private readonly options: HostClaimOptions,
  ) {
    this.key = claimKey(options.record.host);
    this.current = { state: 'claiming', host: options.record.host, reason: 'the host-name claim has not been taken yet' };
    this.lease = new LeaseKeeper(etcd, {
      ttlSeconds: CLAIM_TTL_SECONDS,
      refreshSeconds: CLAIM_TTL_SECONDS / 4,
      onLost: () => this.takeAgain('its lease was lost'),
      log: options.log,
    });
    historyFor(etcd).onRestart(() => this.restartWatch());
  }

  get held(): boolean {
    return this.current.state === 'held';
  }

  status(): ClaimStatus {
    return this.current;
  }

  /** Resolves once the claim was first judged (held or conflict), or given up. */
  judged(): Promise<void> {
    return this.firstJudged;
  }

  /** Takes the claim for this engine or stands by; resolves once it is judged (held or conflict), retrying while etcd does not answer. */
  async start(engine: EngineIdentity): Promise<void> {
    if (this.closed) return;
    const { host, hostname, pid, version, since } = this.options.record;
    this.record = { host, engine, hostname, pid, version, since };
    this.value = JSON.stringify(this.record);
    this.restartWatch();
    this.probeTimer = setInterval(() => void this.probe(), CLAIM_PROBE_MS);
    await this.attempt();
  }

  /** Judges the claim again now (after etcd's history changed, the key may be gone or another's). */
  reassert(): Promise<void> {
    return this.attempt();
  }

  /** SIGTERM, SIGINT: gives the host name up (its key deleted while it is still this daemon's). */
  async release(): Promise<void> {
    this.closed = true;
    this.resolveJudged();
    clearInterval(this.probeTimer);
    clearTimeout(this.retryTimer);
    void this.cancelWatch();
    const wasHeld = this.held;
    this.current = { state: 'claiming', host: this.options.record.host, reason: 'stopping' };
    try {
      if (wasHeld) await this.etcd.if(this.key, 'Value', '==', this.value).then(this.etcd.delete().key(this.key)).commit();
    } finally {
      this.lease.close();
    }
  }

  /** Runs one judgement at a time; a request during one runs once more after it. */
  private attempt(): Promise<void> {
    if (this.attempting) {
      this.again = true;
      return this.attempting;
    }
    this.attempting = this.judge()
      .catch((err: unknown) => this.retryLater(err))
      .finally(() => {
        this.attempting = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          void this.attempt();
        }
      });
    return this.attempting;
  }

  private async judge(): Promise<void> {
    const record = this.record;
    if (this.closed || !record) return;
    const lease = await this.lease.leaseId();
    const read = await this.etcd.kv.range({ key: Buffer.from(this.key) });
    historyFor(this.etcd).observe(read.header);
    const kv = read.kvs[0];
    const existing = kv?.value.toString();
    const holder = existing === undefined ? undefined : parseClaim(existing);
    const ours = existing === this.value && kv?.lease === lease;
    const sameEngine = holder?.engine.id === record.engine.id;
    if (!ours && existing !== undefined && (!sameEngine || this.yielded)) {
      return this.conflict(record, holder, existing, kv?.lease ?? '0');
    }
    if (!ours) {
      // Free, or this engine's own claim (a restart): taken unless someone else wrote it meanwhile.
      const guard =
        existing === undefined ? this.etcd.if(this.key, 'Create', '==', 0) : this.etcd.if(this.key, 'Mod', '==', kv.mod_revision);
      const result = await guard
        .then(this.etcd.put(this.key).value(this.value).lease(lease))
        .commit()
        .catch((err: unknown) => {
          // etcd no longer knows the lease (rebuilt, restored): a new one is taken before the next try.
          if (err instanceof EtcdLeaseInvalidError) this.lease.reportInvalid(lease);
          throw err;
        });
      historyFor(this.etcd).observe(result.header);
      if (!result.succeeded) return void (this.again = true);
    }
    this.backoff = claimBackoff();
    if (this.held) return;
    this.current = { state: 'held', host: this.options.record.host };
    this.said = '';
    // The daemon's first reconciliation waits for the first judgement; a later take-over asks for one.
    const later = this.judgedOnce;
    this.judgedOnce = true;
    this.resolveJudged();
    this.options.log.info('host name claimed', { host: record.host, key: this.key, engine: record.engine, lease });
    if (later) this.options.onHeld();
  }

  private conflict(record: ClaimRecord, holder: ClaimRecord | undefined, value: string, lease: string): void {
    const host = this.options.record.host;
    const who = holder ? describeClaim(holder) : `a key that is not a claim (${JSON.stringify(value.slice(0, 200))})`;
    const unleased = lease === '0' ? '; that claim has no lease, so it never ends by itself: delete it if no daemon serves it' : '';
    const reason = `host name ${host} is claimed by another daemon: ${who}${unleased}`;
    this.current = { state: 'conflict', host, holder, reason };
    this.judgedOnce = true;
    this.resolveJudged();
    if (this.said === value) return;
    this.said = value;
    this.options.log.error('host name claimed by another daemon of another engine: writing and deleting nothing', {
      host,
      ours: describeClaim(record),
      theirs: who,
      todo:
        "give one of the two daemons another host name (EC_REGISTRATOR_HOST, or the container's -h) or stop the other; " +
        "this one takes over by itself once the other's claim ends",
    });
  }

  private takeAgain(why: string): void {
    if (this.closed) return;
    // Gone, anyone may take it.
    this.yielded = false;
    if (this.held)
      this.current = { state: 'claiming', host: this.options.record.host, reason: `the host-name claim is being taken again: ${why}` };
    void this.attempt();
  }

  /** Another daemon of this engine wrote the claim over this one's: the newer one keeps the name, at once. */
  private overwritten(value: string, lease: string): void {
    if (this.closed || !this.record) return;
    this.yielded = true;
    this.conflict(this.record, parseClaim(value), value, lease);
  }

  private retryLater(err: unknown): void {
    if (this.closed) return;
    const delay = this.backoff.duration;
    this.backoff = this.backoff.next(undefined);
    this.options.log.warn('could not judge the host-name claim; retrying', { inMs: Math.round(delay), err });
    if (!this.held && this.current.state !== 'conflict') {
      this.current = {
        state: 'claiming',
        host: this.options.record.host,
        reason: `the host-name claim could not be taken: ${(err as Error)?.message ?? String(err)}`,
      };
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }

  /** The claim read back: gone, or not this daemon's any more, it is judged again; the header feeds the history. */
  private async probe(): Promise<void> {
    if (this.closed || this.attempting || !this.record) return;
    try {
      const read = await this.etcd.kv.range({ key: Buffer.from(this.key) });
      historyFor(this.etcd).observe(read.header);
      const value = read.kvs[0]?.value.toString();
      if (value === undefined) this.takeAgain('the claim is gone');
      else if (this.held && value !== this.value) this.overwritten(value, String(read.kvs[0].lease));
    } catch {
      // etcd unreachable: the lease keeper and the writers report it.
    }
  }

  /** Watches the claim so a conflict ends as soon as the holder's claim does (its delete), and a takeover is seen. */
  private restartWatch(): void {
    if (this.closed) return;
    void this.cancelWatch();
    const made = this.etcd
      .watch()
      .key(this.key)
      .create()
      .then((w) => {
        w.on('delete', () => this.takeAgain('the claim ended'));
        w.on('put', (kv) => {
          if (this.held && kv.value.toString() !== this.value) this.overwritten(kv.value.toString(), String(kv.lease));
        });
        w.on('error', () => undefined);
        return w;
      })
      .catch(() => undefined);
    this.watcher = made;
  }

  private async cancelWatch(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await (await watcher)?.cancel().catch(() => undefined);
  }
}

/** How many hosts hold a claim: one count-only read (the fleet's size, for the self-healing window). */
export async function countClaims(etcd: Etcd3): Promise<number> {
  const answer = await etcd.kv.range({ key: Buffer.from(CLAIMS_PREFIX), range_end: prefixEnd(CLAIMS_PREFIX), count_only: true });
  return Number(answer.count);
}
