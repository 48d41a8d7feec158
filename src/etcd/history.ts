import type { Etcd3 } from 'etcd3';

/** How etcd's history changed under the daemon (docs/fleet.md, "etcd history"). */
type HistoryChangeKind =
  /** Another cluster answers at the endpoint: restored from a snapshot, or rebuilt empty. */
  | 'cluster'
  /** A revision lower than one already seen: the history went back. */
  | 'revision'
  /** A watch was answered "compacted": the daemon was cut off while etcd compacted past its revision. */
  | 'compacted';

export interface HistoryChange {
  kind: HistoryChangeKind;
  detail: string;
}

/** The part of an etcd response header that tells one history from another. */
export interface HistoryHeader {
  cluster_id: string;
  revision: string;
}

/**
 * What one etcd client has seen of etcd's history: the cluster ID and the highest revision of its
 * linearizable answers. A change is told to every listener once; the watches of that client restart
 * from the current revision (a watch resumed from a revision the new history has not reached would
 * never hear anything).
 */
export class EtcdHistory {
  private clusterId?: string;
  private revision = -1n;
  private readonly listeners = new Set<(change: HistoryChange) => void>();
  private readonly restarters = new Set<() => void>();

  /** Told of every change; returns the function that stops telling. */
  onChange(listener: (change: HistoryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A watch of this client that must start again from the current revision after a change. */
  onRestart(restart: () => void): () => void {
    this.restarters.add(restart);
    return () => this.restarters.delete(restart);
  }

  /** The header of a linearizable answer (a range, a transaction): monotonic within one history. */
  observe(header: HistoryHeader): void {
    const revision = BigInt(header.revision);
    const clusterId = String(header.cluster_id);
    const before = this.clusterId;
    const highest = this.revision;
    this.clusterId = clusterId;
    if (before !== undefined && clusterId !== before) {
      this.revision = revision;
      return this.changed({ kind: 'cluster', detail: `cluster ID ${before} -> ${clusterId}, revision ${highest} -> ${revision}` });
    }
    if (revision < highest) {
      this.revision = revision;
      return this.changed({ kind: 'revision', detail: `revision ${highest} -> ${revision}` });
    }
    this.revision = revision;
  }

  /** A watch of `prefix` was cancelled by etcd as compacted. */
  compacted(prefix: string, reason: string): void {
    this.changed({ kind: 'compacted', detail: `watch of ${prefix}: ${reason}` });
  }

  private changed(change: HistoryChange): void {
    for (const restart of this.restarters) restart();
    for (const listener of this.listeners) listener(change);
  }
}

const histories = new WeakMap<Etcd3, EtcdHistory>();

/** The history of one etcd client (every watch and probe on that client shares it). */
export function historyFor(client: Etcd3): EtcdHistory {
  let history = histories.get(client);
  if (!history) {
    history = new EtcdHistory();
    histories.set(client, history);
  }
  return history;
}

/**
 * Whether a watch error is etcd's "required revision has been compacted". etcd 3.5 says so in the
 * cancel reason; etcd 3.4 cancels a compacted watch with no reason (only its compact_revision, which
 * etcd3 drops), which etcd3 reports as "Watcher canceled: " and which 3.4 sends for nothing else.
 */
export function isCompactedError(err: unknown): boolean {
  const message = (err as Error)?.message ?? '';
  return /compacted/i.test(message) || /^Watcher canceled: ?$/.test(message);
}
