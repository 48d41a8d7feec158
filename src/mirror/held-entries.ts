/**
 * The keys and values this host holds in etcd per container, with every held key indexed, so the
 * self-healing watch tells at once whether a deleted key is one of them: a purge by another host
 * deletes every key, and a scan of all containers per key would be quadratic.
 */
export class HeldEntries {
  /** id -> every key (containers/<id>/*, hosts/<host>/<name>, labels/*\/<id>) and value etcd holds. */
  private readonly byId = new Map<string, ReadonlyMap<string, string>>();
  /** key -> how many held containers hold it (a name key may be held by two while one replaces the other). */
  private readonly keys = new Map<string, number>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): ReadonlyMap<string, string> | undefined {
    return this.byId.get(id);
  }

  ids(): Iterable<string> {
    return this.byId.keys();
  }

  hasKey(key: string): boolean {
    return this.keys.has(key);
  }

  /** Holds `entry` for the container, or nothing when it is empty. */
  set(id: string, entry: ReadonlyMap<string, string>): void {
    this.delete(id);
    if (entry.size === 0) return;
    this.byId.set(id, entry);
    for (const key of entry.keys()) this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
  }

  delete(id: string): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.byId.delete(id);
    for (const key of entry.keys()) {
      const n = this.keys.get(key)! - 1;
      if (n > 0) this.keys.set(key, n);
      else this.keys.delete(key);
    }
  }

  /** Holds exactly these entries. */
  replace(entries: ReadonlyMap<string, ReadonlyMap<string, string>>): void {
    this.clear();
    for (const [id, entry] of entries) this.set(id, entry);
  }

  clear(): void {
    this.byId.clear();
    this.keys.clear();
  }
}
