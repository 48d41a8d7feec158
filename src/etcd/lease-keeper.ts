import { Etcd3, EtcdLeaseInvalidError, Lease } from 'etcd3';
import type { Logger } from '../log';
import { beforeDeadline } from '../time-bounds';

export interface LeaseKeeperOptions {
  /** `-ttl`: seconds etcd keeps the keys after the last keepalive. */
  ttlSeconds: number;
  /** `-ttl-refresh`: seconds between keepalives. */
  refreshSeconds: number;
  /**
   * Called after a lease was found lost (etcd answered that it expired): the keys it held are gone,
   * or about to be, and must all be written again under the next lease.
   */
  onLost: (reason: string) => void;
  /** Told whether a lease is held: true once one is granted, false at start, when it is lost and on close. */
  onHeld?: (held: boolean) => void;
  log: Logger;
}

/** Longest one keepalive may take before it counts as unanswered (a frozen etcd never answers). */
const KEEPALIVE_TIMEOUT_MS = 5_000;

/**
 * One etcd lease held on behalf of a writer (`-ttl N -ttl-refresh M`): granted on first use,
 * kept alive every M seconds, and replaced when etcd says it is gone. A keepalive that fails for
 * another reason (etcd unreachable, frozen) is simply tried again: whether the lease survived is
 * only known once etcd answers, and only then are the keys written again if it did not.
 */
export class LeaseKeeper {
  private lease?: Lease;
  private id?: Promise<string>;
  private timer?: NodeJS.Timeout;
  private beating = false;
  private closed = false;

  constructor(
    private readonly etcd: Etcd3,
    private readonly options: LeaseKeeperOptions,
  ) {
    options.onHeld?.(false);
  }

  /** The lease to put keys under, granted now if there is none (rejects while etcd is unreachable). */
  leaseId(): Promise<string> {
    if (this.closed) return Promise.reject(new Error('lease keeper closed'));
    if (!this.id) {
      // autoKeepAlive off: etcd3 would beat every TTL/3; -ttl-refresh sets the pace here.
      const lease = this.etcd.lease(this.options.ttlSeconds, { autoKeepAlive: false });
      this.lease = lease;
      this.id = lease.grant().catch((err: unknown) => {
        if (this.lease === lease) this.forget();
        throw err;
      });
      this.id
        .then((id) => {
          this.options.log.info('lease granted', { lease: id, ttl: this.options.ttlSeconds, refresh: this.options.refreshSeconds });
          if (this.lease === lease) this.options.onHeld?.(true);
        })
        .catch(() => undefined);
      this.startBeating();
    }
    return this.id;
  }

  /**
   * A write under `leaseId` was refused because etcd no longer knows the lease. Replaces it
   * (once, even if several writes report the same lease).
   */
  reportInvalid(leaseId: string): void {
    void this.id
      ?.then((current) => {
        if (current === leaseId) this.lost(`etcd refused a write under lease ${leaseId}`);
      })
      .catch(() => undefined);
  }

  /** Stops the keepalives. The keys stay until the TTL runs out (SIGINT keeps data; SIGTERM deleted it already). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.lease?.release();
    this.forget();
    this.options.onHeld?.(false);
  }

  private startBeating(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.options.refreshSeconds * 1000);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const lease = this.lease;
    if (!lease || !this.id || this.beating) return;
    this.beating = true;
    try {
      await this.id;
      const wait = Math.min(KEEPALIVE_TIMEOUT_MS, this.options.refreshSeconds * 1000);
      await beforeDeadline(lease.keepaliveOnce(), Date.now() + wait, 'keepalive unanswered');
    } catch (err) {
      if (err instanceof EtcdLeaseInvalidError && this.lease === lease) this.lost('etcd answered that the lease expired');
      else this.options.log.warn('lease keepalive failed; will try again', { err });
    } finally {
      this.beating = false;
    }
  }

  private lost(reason: string): void {
    if (this.closed) return;
    this.options.log.warn('lease lost; taking a new one and writing its keys again', { reason });
    this.lease?.release();
    this.forget();
    this.options.onHeld?.(false);
    this.options.onLost(reason);
  }

  private forget(): void {
    this.lease = undefined;
    this.id = undefined;
  }
}
