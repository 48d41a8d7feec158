import { FULL_CONTAINER_ID } from '../docker/container-id';
import type { MirrorLayout } from '../mirror/keys';
import type { Finding } from './check-finding';

/** A key and its value as read from etcd. */
export type Kv = readonly [key: string, value: string];

/** A Docker container Id as the mirror files it (docker/container-id.ts). */
export const CONTAINER_ID = FULL_CONTAINER_ID;

/** What the check keeps of one `containers/<id>/` entry: the fields the indexes must agree with. */
export interface EntrySummary {
  host?: string;
  name?: string;
  /** label -> value, from its `labels/<label>` keys; absent when it has none. */
  labels?: Map<string, string>;
  /** While the `hosts/` keys are judged: the value of its `hosts/<host>/<name>` key, when that key exists. */
  hostKeyValue?: string;
}

/** Counts of what one pass over `/<dir>/` read. */
export interface MirrorCounts {
  /** Every key read under the prefix. */
  keys: number;
  entries: number;
  hostKeys: number;
  labelKeys: number;
  /** Keys under the prefix outside `containers/<id>/`, `hosts/` and `labels/`: read, not judged. */
  notChecked: number;
}

/** The outcome of the mirror pass, which the pass over the ownership records builds on. */
export interface MirrorVerdict {
  counts: MirrorCounts;
  /** Every entry read, by container id. */
  entries: ReadonlyMap<string, EntrySummary>;
  /** The entry findings by container id: the index records that point at them go with them. */
  entryFindings: ReadonlyMap<string, Finding>;
  findings: Finding[];
}

type Section = 'containers' | 'hosts' | 'labels';
const SECTIONS: readonly Section[] = ['containers', 'hosts', 'labels'];

/** Thrown when pages do not come in key order: the judge relies on containers/ < hosts/ < labels/. */
export class PageOrderError extends Error {
  override readonly name = 'PageOrderError';
}

/**
 * Judges the mirror layout under one prefix, fed the pages of one ordered pass over it (docs/mirror.md, "Key layout",
 * docs/operations.md). `containers/` sorts before `hosts/` and `labels/`, so the entries are summed
 * up first (host, name, labels), then every `hosts/` and `labels/` key is judged as it streams by.
 * Keeps the summaries and the findings, never the pages. Pure: no I/O.
 */
export class MirrorJudge {
  private readonly entries = new Map<string, EntrySummary>();
  private readonly counts: MirrorCounts = { keys: 0, entries: 0, hostKeys: 0, labelKeys: 0, notChecked: 0 };
  private readonly findings: Finding[] = [];
  private readonly entryFindings = new Map<string, Finding>();
  /** `hosts/<host>/<name>` -> the id (rarely ids) whose entry names it; only while the hosts/ keys stream by. */
  private expectedHostKeys?: Map<string, string | string[]>;
  private section = 0;

  constructor(private readonly layout: MirrorLayout) {}

  /** One page of the pass, in key order. */
  page(kvs: Iterable<Kv>): void {
    for (const [key, value] of kvs) {
      this.counts.keys++;
      if (key.startsWith(this.layout.containersPrefix)) this.entryKey(key, value);
      else if (key.startsWith(this.layout.hostsPrefix)) this.hostKey(key, value);
      else if (key.startsWith(this.layout.labelsPrefix)) this.labelKey(key, value);
      else this.counts.notChecked++;
    }
  }

  /** Ends the pass: the findings (by key), and what the ownership pass needs. */
  finish(): MirrorVerdict {
    this.enter('labels');
    this.counts.entries = this.entries.size;
    return { counts: { ...this.counts }, entries: this.entries, entryFindings: this.entryFindings, findings: this.findings };
  }

  /** Moves on to `section`, closing the ones before it. */
  private enter(section: Section): void {
    const target = SECTIONS.indexOf(section);
    if (target < this.section) throw new PageOrderError(`mirror pages out of key order: ${section}/ after ${SECTIONS[this.section]}/`);
    while (this.section < target) {
      if (SECTIONS[this.section] === 'containers') this.closeEntries();
      else this.closeHosts();
      this.section++;
    }
  }

  private entryKey(key: string, value: string): void {
    this.enter('containers');
    const rest = key.slice(this.layout.containersPrefix.length);
    const slash = rest.indexOf('/');
    // Not under any `containers/<id>/`: nothing reads it as an entry.
    if (slash <= 0) return void this.counts.notChecked++;
    const id = rest.slice(0, slash);
    const field = rest.slice(slash + 1);
    let entry = this.entries.get(id);
    if (!entry) this.entries.set(id, (entry = {}));
    if (field === 'host') entry.host = value;
    else if (field === 'name') entry.name = value;
    else if (field.startsWith('labels/')) (entry.labels ??= new Map()).set(field.slice('labels/'.length), value);
  }

  /** Every entry is read: which `hosts/` key each one expects. */
  private closeEntries(): void {
    this.expectedHostKeys = new Map();
    for (const [id, entry] of this.entries) {
      const hostKey = this.expectedHostKey(entry);
      if (hostKey === undefined) continue;
      const others = this.expectedHostKeys.get(hostKey);
      this.expectedHostKeys.set(hostKey, others === undefined ? id : [others, id].flat());
    }
  }

  private expectedHostKey(entry: EntrySummary): string | undefined {
    return entry.host !== undefined && entry.name !== undefined ? this.layout.hostEntry(entry.host, entry.name) : undefined;
  }

  private hostKey(key: string, id: string): void {
    this.enter('hosts');
    this.counts.hostKeys++;
    for (const expecting of [this.expectedHostKeys!.get(key) ?? []].flat()) this.entries.get(expecting)!.hostKeyValue = id;
    const rest = key.slice(this.layout.hostsPrefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) return this.found('host-key', key, id, 'is not hosts/<host>/<name>');
    const entry = this.entries.get(id);
    if (!entry) return this.pointsAtNoEntry('host-key', key, id, id);
    if (this.expectedHostKey(entry) === key) return;
    const base = this.layout.container(id);
    if (entry.host === undefined)
      return this.found('host-key', key, id, `its entry has no host (no ${base}host)`, [{ key: `${base}host` }]);
    if (!key.startsWith(this.layout.hostPrefix(entry.host))) {
      return this.found(
        'host-key',
        key,
        id,
        `its entry's host is ${JSON.stringify(entry.host)}, not ${JSON.stringify(rest.slice(0, slash))}`,
        [{ key: `${base}host` }],
      );
    }
    if (entry.name === undefined)
      return this.found('host-key', key, id, `its entry has no name (no ${base}name)`, [{ key: `${base}name` }]);
    this.found('host-key', key, id, `its entry's name is ${JSON.stringify(entry.name)}, not ${JSON.stringify(rest.slice(slash + 1))}`, [
      { key: `${base}name` },
    ]);
  }

  /** Every `hosts/` key is read: entries without a host, a name, or their own `hosts/` key are findings. */
  private closeHosts(): void {
    this.expectedHostKeys = undefined;
    for (const [id, entry] of this.entries) {
      const base = this.layout.container(id);
      const finding = (reason: string, hostKey?: string): void => {
        const found: Finding = {
          kind: 'entry',
          key: base,
          value: null,
          reason,
          judgedOn: hostKey ? [{ key: hostKey }] : [],
          deletes: [{ prefix: base }],
        };
        this.findings.push(found);
        this.entryFindings.set(id, found);
      };
      if (entry.host === undefined) finding('has no host key');
      else if (entry.name === undefined) finding('has no name key');
      else {
        const hostKey = this.expectedHostKey(entry)!;
        if (entry.hostKeyValue === undefined) finding(`its hosts/ key ${hostKey} is missing`, hostKey);
        else if (entry.hostKeyValue !== id) finding(`its hosts/ key ${hostKey} names another container (${entry.hostKeyValue})`, hostKey);
      }
      delete entry.hostKeyValue;
    }
  }

  private labelKey(key: string, value: string): void {
    this.enter('labels');
    this.counts.labelKeys++;
    const rest = key.slice(this.layout.labelsPrefix.length);
    const slash = rest.lastIndexOf('/');
    const id = rest.slice(slash + 1);
    if (slash < 0 || !CONTAINER_ID.test(id))
      return this.found('label-key', key, value, 'is not labels/<label>/<id> with <id> a container id (64 hex)');
    const entry = this.entries.get(id);
    if (!entry) return this.pointsAtNoEntry('label-key', key, value, id);
    const label = rest.slice(0, slash);
    const labelKey = `${this.layout.container(id)}labels/${label}`;
    const listed = entry.labels?.get(label);
    if (listed === undefined)
      return this.found('label-key', key, value, `its entry does not list label ${JSON.stringify(label)} (no ${labelKey})`, [
        { key: labelKey },
      ]);
    if (listed !== value)
      return this.found('label-key', key, value, `its entry gives label ${JSON.stringify(label)} the value ${JSON.stringify(listed)}`, [
        { key: labelKey },
      ]);
    // An index key of an entry that is itself a finding goes with it.
    this.entryFindings.get(id)?.deletes.push({ key });
  }

  private pointsAtNoEntry(kind: Finding['kind'], key: string, value: string, id: string): void {
    const base = this.layout.container(id);
    this.found(kind, key, value, `points at no entry (${base} holds nothing)`, [{ prefix: base }]);
  }

  private found(kind: Finding['kind'], key: string, value: string, reason: string, judgedOn: Finding['judgedOn'] = []): void {
    this.findings.push({ kind, key, value, reason, judgedOn, deletes: [{ key }] });
  }
}
