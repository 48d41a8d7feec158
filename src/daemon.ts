import { WriterAdmission } from './daemon/admission';
import { type Delay, ReconcileScheduler } from './daemon/scheduler';
import { SyncQueue } from './daemon/sync-queue';
import type { ContainerEngine } from './docker/engine';
import { ContainerEvent, isNetworkAction } from './docker/events';
import { EventWatch } from './docker/watcher';
import type { EtcdHistory, HistoryChange } from './etcd/history';
import type { ClaimStatus } from './fleet/host-claim';
import type { Logger } from './log';
import type { DaemonObserver, DaemonStatus, HistoryStatus } from './observer';
import { beforeDeadline, firstOf } from './time-bounds';
import type { Writer } from './writer';

export { WriterUnreachableError } from './daemon/admission';
export { selfHealDelayMs } from './daemon/heal-window';
export { SyncQueue } from './daemon/sync-queue';

export interface DaemonOptions {
  /** Seconds between full reconciliations; 0 = only on start, reconnect and SIGHUP. */
  resyncSeconds: number;
  /** Containers inspected and written at once. */
  concurrency?: number;
  /** First delay before re-reconciling after a failed write (doubles, capped at 30 s). */
  retryDelayMs?: number;
  /** Longest a stop that deletes this host's data may take, deletion included (default 8 s, under `docker stop`'s 10 s). */
  shutdownDeadlineMs?: number;
  /** Longest a stop that keeps the data waits for writes in flight before abandoning them (default 1 s; SIGINT exits within 2 s). */
  stopGraceMs?: number;
  /**
   * Self-healing: how long after a writer reports this host's data deleted behind its back the
   * daemon reconciles to write it back (see selfHealDelayMs); undefined turns self-healing off.
   */
  healDelayMs?: Delay;
  /** How long after etcd's history changed to reconcile (default: healDelayMs, else at once). */
  repairDelayMs?: Delay;
  /**
   * The claim on this daemon's host name (docs/fleet.md): while it is not held (another daemon of
   * another engine holds the name), nothing is written or deleted, on any signal. Absent: no claim.
   */
  hostClaim?: HostGate;
  /** The etcd history of the daemon's etcd client: a change brings every writer back in step (docs/fleet.md). */
  history?: EtcdHistory;
  /**
   * `-retry-attempts` / `-retry-interval`: how often a writer that does not answer its first ping
   * is pinged again before the daemon gives up (`attempts` -1: never gives up).
   */
  startupRetry?: { attempts: number; intervalMs: number };
  /** Called when the daemon cannot go on (a writer still unreachable after its retries). */
  onFatal?: (err: Error) => void;
  /** Told about events, writes and reconciliations (metrics); optional. */
  observer?: DaemonObserver;
}

/** What the daemon needs of its host-name claim (fleet/host-claim.ts). */
export interface HostGate {
  readonly held: boolean;
  status(): ClaimStatus;
  /** Resolves once the claim was first judged (held or not), or given up. */
  judged(): Promise<void>;
  /** Judges the claim again (after etcd's history changed). */
  reassert(): Promise<void>;
  /** Gives the host name up (SIGTERM, SIGINT). */
  release(): Promise<void>;
}

/** What a writer may ask of the daemon that runs it (given to writers made by the daemon's constructor). */
export interface DaemonRequests {
  /** Reconcile soon (merged with any other request); failures are the daemon's to retry. */
  reconcile(reason: string): void;
  /** This host's data was deleted behind the writer's back: write it back after the self-healing delay. */
  heal(reason: string): void;
}

/** A reconciliation of more containers than this logs `synced N/M` every this many containers. */
const PROGRESS_EVERY = 200;

/** Why a reconciliation or a sync did not finish: the daemon is stopping (not a failure to retry). */
export class StoppingError extends Error {
  constructor() {
    super('the daemon is stopping');
    this.name = 'StoppingError';
  }
}

/** How many items an iterable yields (heldIds() gives an iterator, not an array). */
function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

/** How long a reconciliation waits for the host-name claim's first judgement before it goes on without writing. */
const CLAIM_WAIT_MS = 1_000;

const unanswered = (what: string) => `${what}: no answer before the shutdown deadline`;

/** How long past the stop's deadline closing connections and giving the host-name claim up may take. */
const CLEANUP_GRACE_MS = 1_000;

/**
 * Wires one container engine's events to every writer. Every action is "sync this container":
 * inspect it (the event is a hint, the inspect is the truth) and let each writer in step write the
 * difference. Which writers are in step is WriterAdmission's; when to reconcile, ReconcileScheduler's.
 */
export class Daemon {
  private readonly writers: Writer[];
  private readonly queue: SyncQueue;
  private readonly events: EventWatch;
  private readonly admission: WriterAdmission;
  private readonly scheduler: ReconcileScheduler;
  private stopped = false;
  /** Containers whose last sync found them running: the ones a network event is a hint for (onEvent). */
  private readonly running = new Set<string>();
  private readonly observer: DaemonObserver;
  /** The history change being repaired, until a reconciliation that started after it succeeds. */
  private repairing?: HistoryChange & { at: string };
  private historyChanges = 0;

  /**
   * `engine`: Docker's (dockerEngine), or a test's. `writers`: the writers, or a function making them
   * that is given what they may ask of this daemon (so none needs a reference to it).
   */
  constructor(
    private readonly engine: ContainerEngine,
    writers: Writer[] | ((requests: DaemonRequests) => Writer[]),
    private readonly log: Logger,
    private readonly options: DaemonOptions,
  ) {
    this.observer = options.observer ?? {};
    this.scheduler = new ReconcileScheduler((reason) => this.runReconcile(reason), log, options);
    this.writers =
      typeof writers === 'function'
        ? writers({ reconcile: (reason) => void this.reconcile(reason).catch(() => undefined), heal: (reason) => this.heal(reason) })
        : writers;
    this.admission = new WriterAdmission(this.writers, log, {
      startupRetry: options.startupRetry,
      onFatal: options.onFatal,
      onReachable: (writer) => void this.reconcile(`${writer.name} reachable`).catch(() => undefined),
    });
    options.history?.onChange((change) => this.historyChanged(change));
    this.queue = new SyncQueue((id) => this.syncContainer(id), options.concurrency ?? 16);
    this.events = this.engine.watch({
      onEvent: (e) => this.onEvent(e),
      onSubscribed: () => this.reconcile('subscribed'),
      onServiceEvent: (id) => this.onServiceEvent(id),
    });
  }

  /**
   * Pings every writer once, starts watching, and resolves after the first full reconciliation
   * finished (successfully or not). A writer that did not answer keeps being pinged in the
   * background and joins with a reconciliation of its own once it answers.
   */
  async start(): Promise<void> {
    // The event stream opens while the writers are pinged (two round trips in parallel, not in
    // a row); reconciliations wait for the pings, so they know which writers are admitted.
    this.admission.start();
    this.events.start();
    this.scheduler.start();
    await this.scheduler.firstRunFinished();
  }

  /**
   * Brings every writer in step with the running containers: reload what this host holds, then
   * sync every container that is running or held. Only this host's data is ever touched.
   * Reconciliations never overlap: a request during one runs once more after it (requests merge).
   */
  reconcile(reason: string): Promise<void> {
    return this.scheduler.request(reason);
  }

  /**
   * Self-healing: a writer saw keys it holds deleted by someone else (another host's SIGUSR2, a
   * hand). Reconciles after this host's delay; reports that arrive meanwhile join that one run.
   */
  heal(reason: string): void {
    if (this.stopped || !this.holdsHostName()) return;
    this.observer.healed?.();
    this.scheduler.heal(reason);
  }

  /** Whether this daemon may write: it holds its host name's claim, or has none to hold. */
  private holdsHostName(): boolean {
    return this.options.hostClaim?.held ?? true;
  }

  /**
   * etcd's history changed under the daemon (etcd/history.ts; its watches already restart from the
   * current revision): the claim is judged again, then every writer reloads what etcd holds now and
   * is brought back in step, after the fleet's spread delay.
   */
  private historyChanged(change: HistoryChange): void {
    if (this.stopped) return;
    this.historyChanges++;
    this.repairing = { ...change, at: new Date().toISOString() };
    this.observer.historyChanged?.(change.kind);
    this.log.warn('etcd history changed under the daemon; bringing every writer back in step from what etcd holds now', { ...change });
    void (async () => {
      await this.options.hostClaim?.reassert().catch(() => undefined);
      await this.scheduler.repair(`${change.kind}: ${change.detail}`);
    })();
  }

  /** One reconciliation; rejects when it failed (the scheduler retries it) or was abandoned (StoppingError). */
  private async runReconcile(reason: string): Promise<void> {
    const started = Date.now();
    const repairing = this.repairing;
    const claim = this.options.hostClaim;
    // Nothing is written before the host name is known to be this daemon's; a claim still being
    // taken (etcd refusing or unreachable) lets the reads run, so their failures are told, then fails.
    if (claim) await firstOf(claim.judged(), CLAIM_WAIT_MS);
    this.throwIfStopping();
    if (claim?.status().state === 'conflict') {
      this.log.info("not reconciling: this host name is not this daemon's to write", { reason, claim: claim.status().reason });
      return;
    }
    try {
      await this.admission.firstPings();
      this.throwIfStopping();
      const admitted = this.admission.admitted();
      const unloaded: string[] = [];
      // The list does not depend on held state: the engine answers while the stores are read.
      const listing = this.engine.list();
      listing.catch(() => undefined); // a failure is thrown where it is awaited, below
      // No sync may run while held state is reloaded, or its write could be missing from it.
      await this.queue.pause();
      try {
        // A writer whose store is down sits this one out; the others are reconciled regardless.
        const loads = await Promise.allSettled(admitted.map((w) => w.loadHeld()));
        loads.forEach((result, i) => {
          this.admission.setInStep(admitted[i], result.status === 'fulfilled');
          if (result.status === 'rejected') {
            unloaded.push(admitted[i].name);
            this.log.warn('could not read what this host holds; writer skipped until the next attempt', {
              writer: admitted[i].name,
              err: result.reason,
            });
          }
        });
      } finally {
        this.queue.resume();
      }
      this.throwIfStopping();
      if (!this.holdsHostName()) throw new Error(`not reconciled: ${claim?.status().reason ?? 'the host-name claim is not held'}`);
      const ids = new Set(await listing);
      this.throwIfStopping();
      for (const writer of this.admission.inStepWriters()) for (const id of writer.heldIds()) ids.add(id);
      // So that one whose die went unseen (events lost) leaves the running set.
      for (const id of this.running) ids.add(id);
      const results = await Promise.allSettled(
        this.withProgress(
          reason,
          [...ids].map((id) => this.queue.request(id)),
        ),
      );
      const failed = results.filter((r) => r.status === 'rejected').length;
      this.throwIfStopping();
      for (const writer of this.admission.inStepWriters()) {
        if (!writer.afterReconcile) continue;
        try {
          await writer.afterReconcile();
        } catch (err) {
          this.admission.setInStep(writer, false);
          unloaded.push(writer.name);
          this.log.warn('clean-up after reconciling failed', { writer: writer.name, err });
        }
      }
      if (failed > 0) throw new Error(`${failed} of ${ids.size} containers could not be written`);
      if (unloaded.length > 0) throw new Error(`not reconciled: ${unloaded.join(', ')}`);
      this.log.info('reconciled', { reason, containers: ids.size, ms: Date.now() - started });
      if (repairing && this.repairing === repairing) {
        this.repairing = undefined;
        this.log.info('writers back in step after the etcd history change', { kind: repairing.kind, since: repairing.at });
      }
      this.observer.reconciled?.(true, (Date.now() - started) / 1000);
    } catch (err) {
      if (this.stopped) {
        // A stop signal abandons the reconciliation where it stands; nothing is retried.
        this.log.info('reconciliation abandoned: stopping', { reason });
        throw err;
      }
      this.observer.reconciled?.(false, (Date.now() - started) / 1000);
      this.log.error('reconcile failed; will retry', { reason, err });
      throw err;
    }
  }

  private throwIfStopping(): void {
    if (this.stopped) throw new StoppingError();
  }

  /** Logs `synced N/M` every PROGRESS_EVERY settled syncs, when there are more than that many. */
  private withProgress(reason: string, syncs: Array<Promise<void>>): Array<Promise<void>> {
    const total = syncs.length;
    if (total <= PROGRESS_EVERY) return syncs;
    let done = 0;
    const step = () => {
      done++;
      if (done % PROGRESS_EVERY === 0) this.log.info(`synced ${done}/${total}`, { reason, done, total });
    };
    return syncs.map((sync) => sync.finally(step));
  }

  /** What /healthz and the state gauges report: Docker subscribed, first reconciliation done, each writer's state. */
  status(): DaemonStatus {
    const history: HistoryStatus = {
      state: this.repairing ? 'recovering' : 'steady',
      changes: this.historyChanges,
      ...(this.repairing ? { last: this.repairing } : {}),
    };
    return {
      ...(this.options.hostClaim ? { hostClaim: this.options.hostClaim.status() } : {}),
      ...(this.options.history ? { etcdHistory: history } : {}),
      dockerConnected: this.events.subscribed,
      firstReconcileDone: this.scheduler.firstRunDone,
      writers: this.writers.map((w) => ({
        name: w.name,
        state: this.admission.state(w),
        containersHeld: count(w.heldIds()),
      })),
    };
  }

  /** SIGUSR2: delete every host's data under every writer's prefixes, then write ours again. */
  async purgeAndRefill(): Promise<void> {
    if (!this.holdsHostName()) {
      this.log.warn("SIGUSR2 ignored: this host name is another daemon's, so this one purges nothing", {
        claim: this.options.hostClaim?.status().reason,
      });
      return;
    }
    await this.queue.pause();
    let purges: PromiseSettledResult<void>[];
    try {
      purges = await Promise.allSettled(this.writers.map((w) => w.purgeAll()));
    } finally {
      this.queue.resume();
    }
    // The refill runs even if one store could not be purged: the others must not stay empty.
    await this.reconcile('SIGUSR2');
    const failed = purges.flatMap((r, i) => (r.status === 'rejected' ? [`${this.writers[i].name}: ${(r.reason as Error).message}`] : []));
    if (failed.length > 0) throw new Error(`purge incomplete (${failed.join('; ')})`);
  }

  /**
   * Stops watching and abandons any reconciliation under way: syncs not yet started never start,
   * the ones running are waited for. Keeping the data, that wait is short (`stopGraceMs`): a write
   * that cannot finish is abandoned. With `deleteHostData`, removes all this host wrote, giving up
   * after `shutdownDeadlineMs` so the exit status and the report of what is left come before
   * `docker stop` (10 s by default) resorts to SIGKILL.
   */
  async stop(deleteHostData: boolean): Promise<void> {
    this.stopped = true;
    // Only a name another daemon holds keeps its data; one whose claim is being taken (etcd down) is still tried.
    if (deleteHostData && this.options.hostClaim?.status().state === 'conflict') {
      deleteHostData = false;
      this.log.warn("this host name is another daemon's: its data is left in place", { claim: this.options.hostClaim?.status().reason });
    }
    this.scheduler.stop();
    this.admission.stop();
    const deadline = Date.now() + (deleteHostData ? (this.options.shutdownDeadlineMs ?? 8_000) : (this.options.stopGraceMs ?? 1_000));
    try {
      try {
        await beforeDeadline(
          Promise.all([this.events.stop(), this.queue.close(new StoppingError())]),
          deadline,
          unanswered('in-flight writes'),
        );
      } catch (err) {
        // Keeping data needs nothing more; a write that cannot finish is simply abandoned.
        if (deleteHostData) throw err;
        this.log.warn('stopping with writes still in flight', { err });
      }
      if (!deleteHostData) return;
      // Every writer is asked, admitted or not: a store that is back by now still gets cleaned.
      const results = await Promise.allSettled(this.writers.map((w) => beforeDeadline(w.removeHostData(), deadline, unanswered(w.name))));
      const failures = results.flatMap((r, i) =>
        r.status === 'rejected'
          ? [`${this.writers[i].name}: ${(r.reason as Error).message}; left in place: ${this.writers[i].describeHostData()}`]
          : [],
      );
      if (failures.length > 0) throw new Error(`could not delete all of this host's data (${failures.join('; ')})`);
    } finally {
      // Whatever happened above: the writers' watches and their backends' connections are closed, the
      // host name given up; within a second past the deadline, so an etcd that does not answer cannot
      // make the stop overdue (signals.ts) and hide what was left in place.
      const cleanup = (async () => {
        await Promise.all(this.writers.map((w) => w.close?.().catch(() => undefined)));
        await this.options.hostClaim?.release();
      })();
      await beforeDeadline(cleanup, Math.max(deadline, Date.now()) + CLEANUP_GRACE_MS, unanswered('closing')).catch((err: unknown) =>
        this.log.warn('could not give the host-name claim up; it ends with its lease', { err }),
      );
    }
  }

  private onEvent(event: ContainerEvent): void {
    if (this.stopped) return;
    // Docker connects a container's networks before its start event and disconnects them after its
    // die; those syncs are the start's and the die's. A network event matters for a running container.
    if (isNetworkAction(event.action) && !this.running.has(event.id)) return;
    this.log.debug('event', { action: event.action, id: event.id });
    this.observer.eventHandled?.(event.action);
    this.queue.request(event.id).catch(() => this.scheduler.retryLater());
  }

  /** A Swarm service was updated: its tasks running here are synced again (their services come from it). */
  private onServiceEvent(serviceId: string): void {
    if (this.stopped || !this.engine.serviceTasks) return;
    this.log.debug('event', { action: 'service update', id: serviceId });
    this.engine.serviceTasks(serviceId).then(
      (ids) => {
        for (const id of ids) this.queue.request(id).catch(() => this.scheduler.retryLater());
      },
      () => this.scheduler.retryLater(),
    );
  }

  private async syncContainer(id: string): Promise<void> {
    if (!this.holdsHostName()) return;
    const state = await this.engine.inspect(id);
    if (state.container?.state.running) this.running.add(id);
    else this.running.delete(id);
    const writers = this.admission.inStepWriters();
    // Each writer's sync is counted as it settles, not once the slowest has.
    const results = await Promise.allSettled(
      writers.map((w) =>
        w.sync(state).then(
          () => this.observer.written?.(w.name, true),
          (err: unknown) => {
            this.observer.written?.(w.name, false);
            throw err;
          },
        ),
      ),
    );
    const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [{ writer: writers[i], err: r.reason as Error }] : []));
    for (const e of errors) {
      // Out of step until a reconciliation reloads it: a down store is not hammered once per event.
      this.admission.setInStep(e.writer, false);
      this.log.warn('write failed', { id, writer: e.writer.name, err: e.err });
    }
    if (errors.length > 0) throw errors[0].err;
  }
}
