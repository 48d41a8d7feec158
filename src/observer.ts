import type { ClaimStatus } from './fleet/host-claim';
/**
 * What the daemon reports as it works, for whoever wants to count it (the metrics of src/http/).
 * Every method is optional and must return at once without throwing; the daemon runs the same
 * with no observer at all, and nothing here depends on a metrics library.
 */
export interface DaemonObserver {
  /** A Docker container event arrived and was queued for a sync (`action`: `start`, `die`, ...). */
  eventHandled?(action: string): void;
  /** One container was synced through one writer; `ok` false when that write failed. */
  written?(writer: string, ok: boolean): void;
  /** A reconciliation finished; `ok` false when it failed (and will be retried). */
  reconciled?(ok: boolean, seconds: number): void;
  /** etcd's history changed under the daemon (another cluster, a lower revision, a compacted watch). */
  historyChanged?(kind: string): void;
  /** This host's data was deleted behind its back: a self-healing reconciliation was asked for. */
  healed?(): void;
  /** The lease of a leased registry (`-ttl`) is held (granted or kept alive) or not (lost, not yet granted, released). */
  leaseHeld?(registry: string, held: boolean): void;
}

/** How far a writer is from being in step with the containers. */
export type WriterState =
  /** It has not answered its first ping yet; the daemon keeps pinging it (`-retry-attempts`). */
  | 'unreachable'
  /** It answered, but its store failed (a write, a reload, a clean-up), or it has not been reconciled yet. */
  | 'out-of-step'
  /** Its held state was loaded and no write has failed since. */
  | 'in-step';

/** Where the daemon stands with etcd's history (docs/fleet.md). */
export interface HistoryStatus {
  /** `recovering` from a change until a reconciliation that started after it succeeded. */
  state: 'steady' | 'recovering';
  /** Changes seen since the start. */
  changes: number;
  /** The change being repaired. */
  last?: { kind: string; detail: string; at: string };
}

/** The daemon's state at one moment, as /healthz and the state gauges read it. */
export interface DaemonStatus {
  /** The claim on this daemon's host name; absent when there is none (no writer in the daemon's etcd). */
  hostClaim?: ClaimStatus;
  etcdHistory?: HistoryStatus;
  /** The Docker event stream is subscribed (false while Docker is unreachable or reconnecting). */
  dockerConnected: boolean;
  /** The first reconciliation has finished (successfully or not). */
  firstReconcileDone: boolean;
  writers: Array<{ name: string; state: WriterState; containersHeld: number }>;
}
