import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log';
import { commitAtomic, commitSplit } from '../etcd/commit';
import { DeletionWatch } from '../etcd/deletion-watch';
import { TransactionTooLargeError } from '../etcd/errors';
import type { KeyOp } from '../etcd/key-ops';
import { deletePrefixInPages } from '../etcd/purge';
import { readPrefix } from '../etcd/reads';
import { type ContainerState, inactiveReason } from '../docker/container';
import { WarnOnce } from '../warn-once';
import type { Writer } from '../writer';
import { HeldEntries } from './held-entries';
import { impliedLabelKeys, ownEntry, readHostEntries } from './host-entries';
import { MirrorLayout, planMirror, WantedEntry, wantedEntry } from './keys';

export interface MirrorWriterOptions {
  /** Mirror prefix without slashes, e.g. `registry`. */
  dir: string;
  /** The host name this daemon files its data under. */
  host: string;
  /**
   * Called when a key this writer holds was deleted by someone else (another host's SIGUSR2, a hand):
   * the daemon reconciles to write it back. Without it nothing is watched (`registrator diff`, `--no-self-heal`).
   */
  onVanished?: (reason: string) => void;
}

/** Counters for tests and benchmarks: how much this writer actually sent to etcd. */
export interface MirrorStats {
  puts: number;
  deletes: number;
  transactions: number;
}

/**
 * The container-state mirror (docs/mirror.md, "Key layout"). Keeps, per container, the keys etcd holds for it, so a
 * sync writes only what changed, in one transaction per container.
 */
export class MirrorWriter implements Writer {
  readonly name = 'writer.mirror';
  readonly layout: MirrorLayout;
  readonly stats: MirrorStats = { puts: 0, deletes: 0, transactions: 0 };
  /** What etcd holds for each container, as loaded and as written since. */
  private readonly held = new HeldEntries();
  /** id -> what was last said about its entry, so a warning is logged once, not at every resync. */
  private readonly warned = new WarnOnce({ emptyForgets: true });
  /** Index keys under this host's prefixes that name no container, as last said (logged once). */
  private unreadable = '';
  /** id -> why a running container has no entry (health, size), from its last sync. */
  private readonly leftOut = new Map<string, string>();
  private readonly watch?: DeletionWatch;

  constructor(
    private readonly etcd: Etcd3,
    private readonly options: MirrorWriterOptions,
    private readonly log: Logger,
  ) {
    this.layout = new MirrorLayout(options.dir);
    const onVanished = options.onVanished;
    if (onVanished) this.watch = new DeletionWatch(etcd, (key) => this.held.hasKey(key) && onVanished(`${key} deleted`), log);
  }

  async loadHeld(): Promise<void> {
    const { entries, unreadable } = await readHostEntries(this.etcd, this.layout, this.options.host);
    this.held.replace(entries);
    const text = unreadable.join(' ');
    if (text !== '' && text !== this.unreadable)
      this.log.warn("keys under this host's prefixes name no container; left alone (registrator check --fix removes them)", {
        keys: unreadable.slice(0, 20),
        count: unreadable.length,
      });
    this.unreadable = text;
    this.watch?.watch([this.layout.hostPrefix(this.options.host), this.layout.ownerIndexPrefix(this.options.host)]);
  }

  async close(): Promise<void> {
    await this.watch?.close();
  }

  heldIds(): Iterable<string> {
    return this.held.ids();
  }

  /** Per container: the entry held, and why the last sync of a running container wrote none (the status page). No I/O. */
  statusView(): Array<{ containerId: string; entry: ReadonlyMap<string, string>; leftOut?: string }> {
    const ids = [...new Set([...this.held.ids(), ...this.leftOut.keys()])];
    return ids.map((id) => ({ containerId: id, entry: this.held.get(id) ?? new Map<string, string>(), leftOut: this.leftOut.get(id) }));
  }

  async sync(state: ContainerState): Promise<void> {
    const { ops, wanted } = await this.planFor(state);
    const previous = this.held.get(state.id) ?? new Map<string, string>();
    // Held before the commit, so the watch never takes this writer's own deletions for vanished keys.
    // A failed commit leaves the writer out of step, and the next reconciliation reloads what etcd holds.
    this.held.set(state.id, wanted);
    if (ops.length === 0) return;
    await this.commitEntry(state.id, ops, previous, wanted);
    if (!this.log.isLevelEnabled('debug')) return;
    const puts = ops.filter((o) => 'put' in o).length;
    this.log.debug(wanted.size ? 'container mirrored' : 'container removed', { id: state.id, puts, deletes: ops.length - puts });
  }

  /** What `sync` would commit for this container, without writing (`registrator diff`). */
  async plan(state: ContainerState): Promise<KeyOp[]> {
    return (await this.planFor(state)).ops;
  }

  private async planFor(state: ContainerState): Promise<{ ops: KeyOp[]; wanted: Map<string, string> }> {
    const wanted = this.wanted(state);
    // Removal works from what etcd holds: the container may be gone, and this process may not have written it.
    const held = wanted.size === 0 ? await this.readContainer(state.id) : (this.held.get(state.id) ?? new Map<string, string>());
    return { ops: planMirror(state.id, held, wanted, this.layout), wanted };
  }

  /** SIGTERM: everything this host holds, found through its own keys (docs/mirror.md), stale entries included. */
  async removeHostData(): Promise<void> {
    // Nothing is watched from here on; the deletion does not wait for etcd to confirm it.
    void this.watch?.close();
    const { entries } = await readHostEntries(this.etcd, this.layout, this.options.host);
    const ops: KeyOp[] = [];
    for (const [id, keys] of entries) {
      const entryPrefix = this.layout.container(id);
      // Only entries that are this host's: an id merely listed under hosts/<host>/ keeps its entry.
      if ([...keys.keys()].some((k) => k.startsWith(entryPrefix))) ops.push({ deletePrefix: entryPrefix });
      for (const key of keys.keys()) if (key.startsWith(this.layout.labelsPrefix)) ops.push({ delete: key });
    }
    ops.push(
      { deletePrefix: this.layout.hostPrefix(this.options.host) },
      { deletePrefix: this.layout.ownerIndexPrefix(this.options.host) },
    );
    this.held.clear();
    await this.commit(ops);
    this.log.info("deleted this host's mirror data", { host: this.options.host, containers: entries.size });
  }

  async purgeAll(): Promise<void> {
    // Nothing is held while the purge lands, so the watch does not take it for another host's.
    this.held.clear();
    this.count([{ deletePrefix: this.layout.allPrefix }], await deletePrefixInPages(this.etcd, this.layout.allPrefix));
    this.log.info('purged the whole mirror', { prefix: this.layout.allPrefix });
  }

  describeHostData(): string {
    const { host } = this.options;
    const { containersPrefix, labelsPrefix } = this.layout;
    const where = `${containersPrefix}, ${this.layout.hostPrefix(host)} and their ${labelsPrefix} keys`;
    return `up to ${this.held.size} container entries of host ${host} under ${where}`;
  }

  private async commit(ops: KeyOp[]): Promise<void> {
    this.count(ops, await commitSplit(this.etcd, ops));
  }

  private count(ops: readonly KeyOp[], transactions: number): void {
    this.stats.transactions += transactions;
    for (const op of ops) {
      if ('put' in op) this.stats.puts++;
      else this.stats.deletes++;
    }
  }

  /**
   * What etcd holds for one container that is to be removed: its entry (if this host's), the labels/
   * index keys and the hosts/<host>/<name> key the entry implies (that one is only ever deleted while
   * it still names this id), and whatever else this writer holds for it (its index record).
   */
  private async readContainer(id: string): Promise<Map<string, string>> {
    const entry = ownEntry(this.layout, this.options.host, id, await readPrefix(this.etcd, this.layout.container(id)));
    const held = new Map([...entry, ...impliedLabelKeys(this.layout, id, entry)]);
    const base = this.layout.container(id);
    const name = entry.get(`${base}name`);
    if (name !== undefined && entry.get(`${base}host`) === this.options.host) held.set(this.layout.hostEntry(this.options.host, name), id);
    for (const [key, value] of this.held.get(id) ?? []) if (!held.has(key)) held.set(key, value);
    return held;
  }

  /**
   * What this host should hold for the container: its entry while active and small enough for one
   * transaction; else nothing, so what etcd holds of it is removed (all or nothing).
   */
  private wanted(state: ContainerState): Map<string, string> {
    const { container } = state;
    const wanted = container?.state.active ? wantedEntry(container, this.options.host, this.layout) : undefined;
    // A running container held back by its health is told; one that does not run is simply gone.
    const held = container?.state.running && !container.state.active ? inactiveReason(container) : undefined;
    const skipped = wanted && !wanted.entry ? wanted.skipped : held;
    if (skipped) this.leftOut.set(state.id, skipped);
    else this.leftOut.delete(state.id);
    this.warnOnce(state, wanted);
    return wanted?.entry ?? new Map<string, string>();
  }

  /**
   * One container's change in one transaction. A change too large for one (a large entry replacing
   * a different large one) is two: removal, then the new entry, each whole. An entry this writer
   * did not write may be too large to remove at once; it is removed in as few transactions as fit.
   */
  private async commitEntry(
    id: string,
    ops: KeyOp[],
    previous: ReadonlyMap<string, string>,
    desired: ReadonlyMap<string, string>,
  ): Promise<void> {
    try {
      return await this.commitOne(ops);
    } catch (err) {
      if (!(err instanceof TransactionTooLargeError)) throw err;
    }
    if (desired.size === 0) return this.commit(ops);
    await this.commitEntry(id, planMirror(id, previous, new Map(), this.layout), previous, new Map());
    await this.commitOne(planMirror(id, new Map(), desired, this.layout));
  }

  private async commitOne(ops: KeyOp[]): Promise<void> {
    await commitAtomic(this.etcd, ops);
    this.count(ops, 1);
  }

  /**
   * Says once per container what is odd about it: `container not mirrored` (skipped whole) or
   * `port not mirrored` (the rest of it is); nothing again at every resync.
   */
  private warnOnce(state: ContainerState, wanted: WantedEntry | undefined): void {
    const lines: Array<[string, string]> = !wanted
      ? []
      : wanted.entry
        ? wanted.warnings.map((w) => ['port not mirrored', w])
        : [['container not mirrored', wanted.skipped]];
    const text = lines.map(([, reason]) => reason).join('; ');
    if (!this.warned.isNew(state.id, text)) return;
    const container = shortened(state.container?.name ?? '');
    for (const [message, reason] of lines) this.log.warn(message, { container, id: state.id, reason });
  }
}

/** A container name fit for a log line: Docker allows names of about 1 MiB. */
function shortened(name: string): string {
  return name.length <= 256 ? name : `${name.slice(0, 64)}... (${name.length} characters)`;
}
