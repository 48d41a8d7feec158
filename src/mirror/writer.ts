import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log';
import { atomicLimitExceeded, commitAtomic } from '../etcd/atomic-txn';
import { commitOps, KeyOp, readPrefix } from '../etcd/ops';
import { containerName } from '../docker/container';
import type { ContainerState, Writer } from '../writer';
import { MirrorLayout, WantedEntry, wantedEntry } from './keys';

export interface MirrorWriterOptions {
  /** Mirror prefix without slashes, e.g. `registry`. */
  dir: string;
  /** The host name this daemon files its data under. */
  host: string;
}

/** Counters for tests and benchmarks: how much this writer actually sent to etcd. */
export interface MirrorStats {
  puts: number;
  deletes: number;
  transactions: number;
}

/**
 * The container-state mirror (SPEC §3). Keeps, per container, the keys etcd holds for it, so a
 * sync writes only what changed, in one transaction per container.
 */
export class MirrorWriter implements Writer {
  readonly name = 'writer.mirror';
  readonly layout: MirrorLayout;
  readonly stats: MirrorStats = { puts: 0, deletes: 0, transactions: 0 };
  /** id -> every key (containers/<id>/*, hosts/<host>/<name>, labels/*\/<id>) and value etcd holds. */
  private held = new Map<string, Map<string, string>>();
  /** id -> what was last said about its entry, so a warning is logged once, not at every resync. */
  private readonly warned = new Map<string, string>();

  constructor(
    private readonly etcd: Etcd3,
    private readonly options: MirrorWriterOptions,
    private readonly log: Logger,
  ) {
    this.layout = new MirrorLayout(options.dir);
  }

  async loadHeld(): Promise<void> {
    this.held = await this.readHostData();
  }

  heldIds(): Iterable<string> {
    return this.held.keys();
  }

  async sync(state: ContainerState): Promise<void> {
    const desired = this.wanted(state);
    // Removal works from what etcd holds: the container may be gone, and this process may not have written it.
    const held = desired.size === 0 ? await this.readContainer(state.id) : this.held.get(state.id) ?? new Map<string, string>();
    const ops = this.diff(state.id, held, desired);
    if (ops.length > 0) {
      await this.commitEntry(state.id, ops, desired);
      this.log.debug(desired.size ? 'container mirrored' : 'container removed', { id: state.id, puts: ops.filter((o) => 'put' in o).length, deletes: ops.filter((o) => !('put' in o)).length });
    }
    if (desired.size > 0) this.held.set(state.id, desired);
    else this.held.delete(state.id);
  }

  async removeHostData(): Promise<void> {
    const held = await this.readHostData();
    const ops: KeyOp[] = [];
    for (const [id, keys] of held) {
      const entryPrefix = this.layout.container(id);
      // Only entries that are this host's: an id merely listed under hosts/<host>/ keeps its entry.
      if ([...keys.keys()].some((k) => k.startsWith(entryPrefix))) ops.push({ deletePrefix: entryPrefix });
      for (const key of keys.keys()) if (key.startsWith(this.layout.labelsPrefix)) ops.push({ delete: key });
    }
    ops.push({ deletePrefix: this.layout.hostPrefix(this.options.host) });
    await this.commit(ops);
    this.held.clear();
    this.log.info('deleted this host\'s mirror data', { host: this.options.host, containers: held.size });
  }

  async purgeAll(): Promise<void> {
    await this.commit([{ deletePrefix: this.layout.allPrefix }]);
    this.held.clear();
    this.log.info('purged the whole mirror', { prefix: this.layout.allPrefix });
  }

  describeHostData(): string {
    return `up to ${this.held.size} container entries of host ${this.options.host} under ${this.layout.containersPrefix}, ${this.layout.hostPrefix(this.options.host)} and their ${this.layout.labelsPrefix} keys`;
  }

  /** Puts for missing or changed keys, deletes for keys no longer wanted. */
  private diff(id: string, held: Map<string, string>, desired: Map<string, string>): KeyOp[] {
    const ops: KeyOp[] = [];
    for (const [key, value] of desired) if (held.get(key) !== value) ops.push({ put: key, value });
    for (const key of held.keys()) {
      if (desired.has(key)) continue;
      // A hosts/<host>/<name> key may already belong to a new container of the same name.
      ops.push(key.startsWith(this.layout.hostsPrefix) ? { delete: key, ifValue: id } : { delete: key });
    }
    return ops;
  }

  private async commit(ops: KeyOp[]): Promise<void> {
    this.stats.transactions += await commitOps(this.etcd, ops);
    for (const op of ops) {
      if ('put' in op) this.stats.puts++;
      else this.stats.deletes++;
    }
  }

  /** What etcd holds for one container, with its label index and host keys derived from the entry. */
  private async readContainer(id: string): Promise<Map<string, string>> {
    const entry = this.ownEntry(id, await readPrefix(this.etcd, this.layout.container(id)));
    const held = this.withDerivedKeys(id, entry, true);
    for (const [key, value] of this.held.get(id) ?? []) if (!held.has(key)) held.set(key, value);
    return held;
  }

  /**
   * This host's containers as etcd holds them: every entry whose `host` is this host, plus every
   * id listed under hosts/<host>/. The labels/ index is derived from each entry's labels (both are
   * always written in one transaction), so the fleet-wide labels/ tree need not be read.
   */
  private async readHostData(): Promise<Map<string, Map<string, string>>> {
    const [containers, hostKeys] = await Promise.all([
      readPrefix(this.etcd, this.layout.containersPrefix),
      readPrefix(this.etcd, this.layout.hostPrefix(this.options.host)),
    ]);
    const byId = new Map<string, Map<string, string>>();
    const prefixLength = this.layout.containersPrefix.length;
    for (const [key, value] of containers) {
      const slash = key.indexOf('/', prefixLength);
      if (slash === -1) continue;
      const id = key.slice(prefixLength, slash);
      let entry = byId.get(id);
      if (!entry) byId.set(id, (entry = new Map()));
      entry.set(key, value);
    }
    const mine = new Map<string, Map<string, string>>();
    for (const [id, entry] of byId) {
      if (entry.get(`${this.layout.container(id)}host`) === this.options.host) mine.set(id, this.withDerivedKeys(id, entry, false));
    }
    for (const [key, id] of hostKeys) {
      let entry = mine.get(id);
      // An id listed under our hosts/ key whose entry names another host: only the hosts/ key is ours.
      if (!entry) mine.set(id, (entry = this.withDerivedKeys(id, this.ownEntry(id, byId.get(id)), false)));
      entry.set(key, id);
    }
    return mine;
  }

  /** The entry if it is this host's (or names no host at all, i.e. a fragment); empty if another host's. */
  private ownEntry(id: string, entry: Map<string, string> | undefined): Map<string, string> {
    const host = entry?.get(`${this.layout.container(id)}host`);
    return entry && (host === undefined || host === this.options.host) ? entry : new Map();
  }

  /**
   * Adds the labels/ index keys an entry implies and, for removals (`withHostKey`), its
   * hosts/<host>/<name> key, which is only ever deleted while it still names this id.
   */
  private withDerivedKeys(id: string, entry: Map<string, string>, withHostKey: boolean): Map<string, string> {
    const held = new Map(entry);
    const base = this.layout.container(id);
    const labelsBase = `${base}labels/`;
    for (const [key, value] of entry) {
      if (key.startsWith(labelsBase)) held.set(this.layout.labelEntry(key.slice(labelsBase.length), id), value);
    }
    const name = entry.get(`${base}name`);
    if (withHostKey && name !== undefined && entry.get(`${base}host`) === this.options.host) held.set(this.layout.hostEntry(this.options.host, name), id);
    return held;
  }

  /**
   * What this host should hold for the container: its entry while active and small enough for one
   * transaction; else nothing, so what etcd holds of it is removed (all or nothing).
   */
  private wanted(state: ContainerState): Map<string, string> {
    const wanted = state.active && state.info ? wantedEntry(state.info, this.options.host, this.layout) : undefined;
    this.warnOnce(state, wanted);
    return wanted?.entry ?? new Map<string, string>();
  }

  /**
   * One container's change in one transaction. A change too large for one (a large entry replacing
   * a different large one) is two: removal, then the new entry, each whole. An entry this writer
   * did not write may be too large to remove at once; it is removed in as few transactions as fit.
   */
  private async commitEntry(id: string, ops: KeyOp[], desired: Map<string, string>): Promise<void> {
    if (atomicLimitExceeded(ops) === undefined) return this.commitOne(ops);
    if (desired.size === 0) return this.commit(ops);
    await this.commitEntry(id, this.diff(id, this.held.get(id) ?? new Map(), new Map()), new Map());
    this.held.delete(id);
    await this.commitOne(this.diff(id, new Map(), desired));
  }

  private async commitOne(ops: KeyOp[]): Promise<void> {
    await commitAtomic(this.etcd, ops);
    this.stats.transactions++;
    for (const op of ops) if ('put' in op) this.stats.puts++;
    this.stats.deletes += ops.filter((op) => !('put' in op)).length;
  }

  /**
   * Says once per container what is odd about it: `container not mirrored` (skipped whole) or
   * `port not mirrored` (the rest of it is); nothing again at every resync.
   */
  private warnOnce(state: ContainerState, wanted: WantedEntry | undefined): void {
    const lines: Array<[string, string]> = !wanted ? [] : wanted.entry ? wanted.warnings.map((w) => ['port not mirrored', w]) : [['container not mirrored', wanted.skipped]];
    const text = lines.map(([, reason]) => reason).join('; ');
    if (text === '') {
      this.warned.delete(state.id);
      return;
    }
    if (this.warned.get(state.id) === text) return;
    this.warned.set(state.id, text);
    const container = shortened(state.info ? containerName(state.info) : '');
    for (const [message, reason] of lines) this.log.warn(message, { container, id: state.id, reason });
  }
}

/** A container name fit for a log line: Docker allows names of about 1 MiB. */
function shortened(name: string): string {
  return name.length <= 256 ? name : `${name.slice(0, 64)}... (${name.length} characters)`;
}
