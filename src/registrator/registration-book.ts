import type { Claim } from './registration-ops';
import type { Service } from './service';

/** What a registry derives from a service it holds, worked out once when the service is booked. */
export interface BookedShape {
  /** Its keys (without the ownership record). */
  keys: readonly string[];
  /** Its claims on keys one service at a time may hold (hamesh ports). */
  claims: readonly Claim[];
  /** Where it is watched for deletions; '' for nowhere. */
  watched: string;
}

/** One service this host holds in a registry. */
export interface BookEntry {
  service: Service;
  /** Where its ownership record is filed (for a registry without records: the container and service ID). */
  recordKey: string;
  /** The guard key's revision as this host wrote it ('0' where unknown); deletions are made only while it holds. */
  revision: string;
  keys: ReadonlySet<string>;
  claims: readonly Claim[];
  watched: string;
}

/** An entry as it was before a change, to put back when the change fails. */
export type BookSnapshot = ReadonlyArray<readonly [recordKey: string, entry: BookEntry | undefined]>;

const NO_SHAPE: BookedShape = { keys: [], claims: [], watched: '' };

/**
 * The book of this host's registrations in one registry: what the service writer plans from and
 * what the registry guards its deletions and watches with. Services are filed by their ownership
 * record's key and found by container and service ID as well (a record filed where an earlier
 * version filed it is still found). The indexes by key, claim, range and watched prefix follow every
 * change, so a key deleted behind this host's back is looked up, not searched for. No I/O.
 */
export class RegistrationBook {
  private readonly byRecord = new Map<string, BookEntry>();
  /** container id -> service id -> its entries (two only while a record moves from an earlier version's key). */
  private readonly byContainer = new Map<string, Map<string, BookEntry[]>>();
  /** How many entries are watched through each prefix. */
  private readonly watchedPrefixes = new Map<string, number>();
  /** The claim keys of booked services, by range. */
  private readonly claimsByRange = new Map<string, string[]>();
  /** How many entries write each key (their keys and claims). */
  private readonly heldKeys = new Map<string, number>();
  /** Claimed keys (a hamesh port key) -> the claims of booked services on it. */
  private readonly claimedEntries = new Map<string, string[]>();
  private changed = false;

  /** `shape`: what the registry derives from a service (its keys, claims, watched prefix); none by default. */
  constructor(private readonly shape: (service: Service) => BookedShape = () => NO_SHAPE) {}

  /** The entry of `service`: the one filed under `recordKey`, else any of its container and ID. */
  find(service: Service, recordKey: string): BookEntry | undefined {
    return this.byRecord.get(recordKey) ?? this.byContainer.get(service.origin.containerId)?.get(service.id)?.[0];
  }

  /** Books `service` under `recordKey` at `revision`, dropping an entry of it filed under another key. */
  hold(service: Service, recordKey: string, revision: string): void {
    const earlier = this.find(service, recordKey);
    if (earlier && earlier.recordKey !== recordKey) this.drop(earlier.recordKey);
    this.set(service, recordKey, revision);
  }

  /** Books `service` under `recordKey` (a record read back: any entry of the same ID filed elsewhere stays). */
  set(service: Service, recordKey: string, revision: string): void {
    const previous = this.byRecord.get(recordKey);
    // The same service again (a write's second hold): only its revision changes.
    if (previous?.service === service) return void (previous.revision = revision);
    if (previous) this.drop(recordKey);
    const { keys, claims, watched } = this.shape(service);
    this.insert({ service, recordKey, revision, keys: new Set(keys), claims, watched });
  }

  drop(recordKey: string): void {
    const entry = this.byRecord.get(recordKey);
    if (!entry) return;
    this.byRecord.delete(recordKey);
    const { containerId } = entry.service.origin;
    const services = this.byContainer.get(containerId)!;
    const same = services.get(entry.service.id)!.filter((e) => e !== entry);
    if (same.length > 0) services.set(entry.service.id, same);
    else services.delete(entry.service.id);
    if (services.size === 0) this.byContainer.delete(containerId);
    if (entry.watched !== '') this.countWatched(entry.watched, -1);
    for (const key of entry.keys) count(this.heldKeys, key, -1);
    for (const claim of entry.claims) {
      count(this.heldKeys, claim.key, -1);
      unfile(this.claimedEntries, claim.entry[0], claim.key);
      if (unfile(this.claimsByRange, claim.range, claim.key)) this.changed = true;
    }
  }

  clear(): void {
    this.byRecord.clear();
    this.byContainer.clear();
    this.watchedPrefixes.clear();
    this.claimsByRange.clear();
    this.heldKeys.clear();
    this.claimedEntries.clear();
    this.changed = true;
  }

  /** The entries filed under these keys now, to `restore` if a change fails. */
  snapshot(recordKeys: Iterable<string>): BookSnapshot {
    return [...new Set(recordKeys)].map((key) => [key, this.byRecord.get(key)] as const);
  }

  /** Puts the entries of a snapshot back as they were. */
  restore(snapshot: BookSnapshot): void {
    for (const [recordKey] of snapshot) this.drop(recordKey);
    for (const [, entry] of snapshot) if (entry) this.insert(entry);
  }

  /** The services booked for one container, by service ID. */
  servicesOf(containerId: string): Map<string, Service> {
    const services = new Map<string, Service>();
    for (const [id, entries] of this.byContainer.get(containerId) ?? []) services.set(id, entries[0].service);
    return services;
  }

  /** The containers that have services booked. */
  containerIds(): string[] {
    return [...this.byContainer.keys()];
  }

  /** Every booked service, one per container and service ID. */
  services(): Service[] {
    return [...this.byContainer.values()].flatMap((services) => [...services.values()].map((entries) => entries[0].service));
  }

  /** How many services are booked (one per container and service ID). */
  get size(): number {
    let n = 0;
    for (const services of this.byContainer.values()) n += services.size;
    return n;
  }

  /** Whether `key` is a record, a key or a claim of a booked service. */
  holdsKey(key: string): boolean {
    return this.byRecord.has(key) || this.heldKeys.has(key);
  }

  /** The claims of booked services on a claimed key (a hamesh port key). */
  claimsOn(entryKey: string): readonly string[] {
    return this.claimedEntries.get(entryKey) ?? [];
  }

  /** The claim keys of booked services filed in `range`. */
  claimsIn(range: string): readonly string[] {
    return this.claimsByRange.get(range) ?? [];
  }

  /** The ranges booked services claim in. */
  claimRanges(): string[] {
    return [...this.claimsByRange.keys()];
  }

  /** The prefixes booked services are watched through. */
  watched(): string[] {
    return [...this.watchedPrefixes.keys()];
  }

  /** Whether the watched prefixes or claim ranges changed since the last call. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  private insert(entry: BookEntry): void {
    this.byRecord.set(entry.recordKey, entry);
    const { containerId } = entry.service.origin;
    let services = this.byContainer.get(containerId);
    if (!services) this.byContainer.set(containerId, (services = new Map()));
    services.set(entry.service.id, [...(services.get(entry.service.id) ?? []), entry]);
    if (entry.watched !== '') this.countWatched(entry.watched, 1);
    for (const key of entry.keys) count(this.heldKeys, key, 1);
    for (const claim of entry.claims) {
      count(this.heldKeys, claim.key, 1);
      file(this.claimedEntries, claim.entry[0], claim.key);
      if (file(this.claimsByRange, claim.range, claim.key)) this.changed = true;
    }
  }

  private countWatched(prefix: string, by: 1 | -1): void {
    if (count(this.watchedPrefixes, prefix, by)) this.changed = true;
  }
}

/** Adds `by` to `key`'s count in `counts` (a key whose count falls to 0 goes); true when the key came or went. */
function count(counts: Map<string, number>, key: string, by: 1 | -1): boolean {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
  return n === 0 || (n === 1 && by === 1);
}

/** Files `value` under `key`; true when `key` is new. */
function file(lists: Map<string, string[]>, key: string, value: string): boolean {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
  return !list;
}

/** Takes one `value` from under `key`; true when `key` is left with none. */
function unfile(lists: Map<string, string[]>, key: string, value: string): boolean {
  const list = lists.get(key);
  if (!list) return false;
  list.splice(list.indexOf(value), 1);
  if (list.length > 0) return false;
  lists.delete(key);
  return true;
}
