import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HANDLED_ACTIONS } from '../docker/events';
import type { DaemonObserver, DaemonStatus } from '../observer';

/**
 * The daemon's Prometheus metrics (docs/metrics.md), in a registry of their own next to Node's
 * default process metrics. Counters and the histogram are fed through the DaemonObserver methods;
 * the state gauges are read from the daemon's status at each scrape.
 */
export class Metrics implements DaemonObserver {
  readonly registry = new Registry();
  private readonly events: Counter<'action'>;
  private readonly writes: Counter<'writer'>;
  private readonly writeErrors: Counter<'writer'>;
  private readonly reconcileSeconds: Histogram<'outcome'>;
  private readonly reconciliations: Counter<'outcome'>;
  private readonly leases: Gauge<'registry'>;
  private readonly historyChanges: Counter<'kind'>;
  private readonly selfHeals: Counter;
  /** Until the daemon exists (readStatusFrom) there is no status: no writer series yet, Docker shown disconnected. */
  private statusSource: () => DaemonStatus | undefined = () => undefined;

  constructor() {
    const status = () => this.statusSource();
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Every writer shows up from the first scrape, at 0, so rate() and increase() see its first write.
    const eachWriter = (counter: Counter<'writer'>) => {
      for (const w of status()?.writers ?? []) counter.inc({ writer: w.name }, 0);
    };
    this.events = new Counter({
      name: 'registrator_docker_events_total',
      help: 'Docker events handled (container actions, network connect/disconnect), by action',
      labelNames: ['action'],
      registers,
    });
    for (const action of HANDLED_ACTIONS) this.events.inc({ action }, 0);
    this.writes = new Counter({
      name: 'registrator_writes_total',
      help: 'Containers synced through a writer (each writes only what differs), failed ones included',
      labelNames: ['writer'],
      registers,
      collect() {
        eachWriter(this);
      },
    });
    this.writeErrors = new Counter({
      name: 'registrator_write_errors_total',
      help: 'Container syncs through a writer that failed',
      labelNames: ['writer'],
      registers,
      collect() {
        eachWriter(this);
      },
    });
    this.reconcileSeconds = new Histogram({
      name: 'registrator_reconcile_duration_seconds',
      help: 'Duration of full reconciliations, by outcome',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.reconciliations = new Counter({
      name: 'registrator_reconciliations_total',
      help: 'Full reconciliations, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['success', 'failure']) {
      this.reconciliations.inc({ outcome }, 0);
      this.reconcileSeconds.zero({ outcome });
    }
    this.leases = new Gauge({
      name: 'registrator_lease_held',
      help: 'Whether the etcd lease of a leased registry (-ttl) is held (1) or lost or not granted yet (0)',
      labelNames: ['registry'],
      registers,
    });

    this.historyChanges = new Counter({
      name: 'registrator_etcd_history_changes_total',
      help: "etcd's history changed under the daemon: another cluster ID (cluster), a lower revision (revision), a compacted watch (compacted)",
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['cluster', 'revision', 'compacted']) this.historyChanges.inc({ kind }, 0);
    this.selfHeals = new Counter({
      name: 'registrator_self_heals_total',
      help: "Reports that this host's data was deleted from etcd behind its back (each asks for a self-healing reconciliation)",
      registers,
    });

    const fromStatus = <L extends string>(name: string, help: string, labelNames: L[], set: (gauge: Gauge<L>, s: DaemonStatus) => void) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const s = status();
          if (s) set(this, s);
        },
      });
    fromStatus('registrator_docker_connected', 'Whether the Docker event stream is subscribed (1) or not (0)', [], (g, s) =>
      g.set(Number(s.dockerConnected)),
    );
    fromStatus(
      'registrator_writer_reachable',
      'Whether a writer has answered its first ping (0 while the daemon keeps pinging it, -retry-attempts)',
      ['writer'],
      (g, s) => {
        for (const w of s.writers) g.set({ writer: w.name }, Number(w.state !== 'unreachable'));
      },
    );
    fromStatus(
      'registrator_writer_in_step',
      'Whether a writer is in step (1), or out of step until its next successful reconciliation (0)',
      ['writer'],
      (g, s) => {
        for (const w of s.writers) g.set({ writer: w.name }, Number(w.state === 'in-step'));
      },
    );
    fromStatus(
      'registrator_containers_held',
      'Containers a writer holds data for in its store, as last loaded and written',
      ['writer'],
      (g, s) => {
        for (const w of s.writers) g.set({ writer: w.name }, w.containersHeld);
      },
    );
    fromStatus('registrator_host_claim_held', 'Whether this daemon holds the claim on its host name (1), or not (0)', [], (g, s) =>
      g.set(Number((s.hostClaim?.state ?? 'held') === 'held')),
    );
    fromStatus(
      'registrator_host_name_conflict',
      "Whether another live daemon, of another engine, holds this daemon's host name (1): this one writes nothing",
      [],
      (g, s) => g.set(Number(s.hostClaim?.state === 'conflict')),
    );
    fromStatus(
      'registrator_etcd_history_recovering',
      "Whether the daemon is bringing the writers back in step after etcd's history changed (1)",
      [],
      (g, s) => g.set(Number(s.etcdHistory?.state === 'recovering')),
    );
  }

  /** Where the state gauges read the daemon's status from, once the daemon exists. */
  readStatusFrom(source: () => DaemonStatus): void {
    this.statusSource = source;
  }

  eventHandled(action: string): void {
    this.events.inc({ action });
  }

  written(writer: string, ok: boolean): void {
    this.writes.inc({ writer });
    if (!ok) this.writeErrors.inc({ writer });
  }

  reconciled(ok: boolean, seconds: number): void {
    const outcome = ok ? 'success' : 'failure';
    this.reconcileSeconds.observe({ outcome }, seconds);
    this.reconciliations.inc({ outcome });
  }

  historyChanged(kind: string): void {
    this.historyChanges.inc({ kind });
  }

  healed(): void {
    this.selfHeals.inc();
  }

  leaseHeld(registry: string, held: boolean): void {
    this.leases.set({ registry }, Number(held));
  }
}
