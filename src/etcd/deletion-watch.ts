import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from '../log';
import { historyFor, isCompactedError } from './history';
import { firstOf } from '../time-bounds';

/**
 * Watches the key prefixes a writer holds this host's data under and reports every key deleted
 * there, whoever deleted it (another host's SIGUSR2, `etcdctl del --prefix`): the writer decides
 * whether it was a key it holds, and the daemon writes it back (self-healing, docs/mirror.md).
 * Only this host's own prefixes are watched, so etcd sends it what concerns it, not the fleet's
 * traffic. All watchers of a client share its one watch stream; etcd3 resumes them after an outage
 * from the last revision seen, so a deletion made meanwhile still arrives. When etcd's history
 * changes (another cluster, a lower revision, a compacted watch: etcd/history.ts) every watcher is
 * made again from the current revision, and the writer's reconciliation covers what was missed.
 */
/** Longest close() waits for etcd to confirm the cancellations. */
const CLOSE_WAIT_MS = 300;

export class DeletionWatch {
  private readonly watchers = new Map<string, Promise<Watcher | undefined>>();
  /** What watch() was last asked for, to make the watchers again after a history change. */
  private wanted: { prefixes: string[]; withPuts: ReadonlySet<string> } = { prefixes: [], withPuts: new Set() };
  private closed = false;
  private readonly stopRestarts: () => void;

  constructor(
    private readonly etcd: Etcd3,
    private readonly onDelete: (key: string) => void,
    private readonly log: Logger,
    /** Told of puts under the prefixes watched `withPuts`, where a writer cares who else writes there (claims on hamesh ports). */
    private readonly onPut?: (key: string) => void,
  ) {
    this.stopRestarts = historyFor(etcd).onRestart(() => this.restart());
  }

  /**
   * Watches exactly `prefixes` from now on: the new ones are added, the others cancelled. Those in
   * `withPuts` report puts as well; the others ask etcd for deletions only, so the writer's own
   * writes there do not stream back to it.
   */
  watch(prefixes: Iterable<string>, withPuts: ReadonlySet<string> = new Set()): void {
    if (this.closed) return;
    this.wanted = { prefixes: [...prefixes], withPuts };
    // A watcher is known by its prefix and whether it reports puts.
    const wanted = new Map(this.wanted.prefixes.map((prefix) => [`${withPuts.has(prefix) ? 'put' : 'delete'} ${prefix}`, prefix]));
    for (const [id, watcher] of this.watchers) {
      if (wanted.has(id)) continue;
      this.watchers.delete(id);
      void cancel(watcher);
    }
    for (const [id, prefix] of wanted) {
      if (this.watchers.has(id)) continue;
      const watcher = this.create(prefix, withPuts.has(prefix));
      this.watchers.set(id, watcher);
      // One that could not be made is made again at the next call.
      void watcher.then((w) => {
        if (!w && this.watchers.get(id) === watcher) this.watchers.delete(id);
      });
    }
  }

  /**
   * Cancels every watcher (before the client closes). Waits at most CLOSE_WAIT_MS for etcd to
   * confirm: a stop must not hang on a watch still being set up; one made later cancels itself.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopRestarts();
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await firstOf(Promise.all(all.map(cancel)), CLOSE_WAIT_MS);
  }

  /** Cancels every watcher and makes them again, from the current revision. */
  private restart(): void {
    if (this.closed) return;
    for (const watcher of this.watchers.values()) void cancel(watcher);
    this.watchers.clear();
    this.watch(this.wanted.prefixes, this.wanted.withPuts);
  }

  private async create(prefix: string, withPuts: boolean): Promise<Watcher | undefined> {
    try {
      const builder = this.etcd.watch().prefix(prefix);
      const onPut = withPuts ? this.onPut : undefined;
      // Without puts, etcd is asked for deletions only (the writer's own writes land here too).
      // `only('delete')` sends etcd's NOPUT filter; etcd3 1.1's `ignore(op)` does the same as `only(op)`.
      if (!onPut) builder.only('delete');
      const watcher = await builder.create();
      watcher.on('delete', (kv) => this.onDelete(kv.key.toString()));
      if (onPut) watcher.on('put', (kv) => onPut(kv.key.toString()));
      watcher.on('error', (err) => {
        // etcd dropped the watch: the deletions it would have sent are lost, so the history is judged changed.
        if (isCompactedError(err)) return historyFor(this.etcd).compacted(prefix, (err as Error).message);
        this.log.warn("watch of this host's keys failed; a resync or SIGHUP still repairs them", { prefix, err });
      });
      if (this.closed) await watcher.cancel();
      return watcher;
    } catch (err) {
      if (!this.closed) this.log.warn("could not watch this host's keys; a resync or SIGHUP still repairs them", { prefix, err });
      return undefined;
    }
  }
}

async function cancel(watcher: Promise<Watcher | undefined>): Promise<void> {
  await (await watcher.catch(() => undefined))?.cancel().catch(() => undefined);
}
