import type { Etcd3 } from 'etcd3';
import type { KeyOp } from './ops';
import { readPrefix, readStoredKeys } from './reads';

/** A key whose value a list of ops would change. */
export interface KeyChange {
  key: string;
  /** Its value now; null when etcd does not hold it. */
  before: string | null;
  /** Its value afterwards; null when the ops delete it. */
  after: string | null;
}

/**
 * The keys `ops` would change if committed in order onto `current`, sorted by key. Pure. `current`
 * must hold every key the ops name and every key under their delete prefixes (see readTouchedKeys);
 * a put of the value a key already holds and a conditional delete whose value does not match change nothing.
 */
export function keyChanges(ops: readonly KeyOp[], current: ReadonlyMap<string, string>): KeyChange[] {
  const after = new Map(current);
  for (const op of ops) {
    if ('put' in op) after.set(op.put, op.value);
    else if ('deletePrefix' in op) {
      for (const key of [...after.keys()]) if (key.startsWith(op.deletePrefix)) after.delete(key);
    } else if (op.ifValue === undefined || after.get(op.delete) === op.ifValue) after.delete(op.delete);
  }
  const changes: KeyChange[] = [];
  for (const key of new Set([...current.keys(), ...after.keys()])) {
    const before = current.get(key) ?? null;
    const next = after.get(key) ?? null;
    if (before !== next) changes.push({ key, before, after: next });
  }
  return changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Reads, without writing, the current value of every key `ops` touch (see keyChanges). */
export async function readTouchedKeys(client: Etcd3, ops: readonly KeyOp[]): Promise<Map<string, string>> {
  const keys = new Set<string>();
  const prefixes = new Set<string>();
  for (const op of ops) {
    if ('put' in op) keys.add(op.put);
    else if ('deletePrefix' in op) prefixes.add(op.deletePrefix);
    else keys.add(op.delete);
  }
  const current = new Map<string, string>();
  for (const [key, stored] of await readStoredKeys(client, [...keys])) current.set(key, stored.value);
  for (const prefix of prefixes) for (const [key, value] of await readPrefix(client, prefix)) current.set(key, value);
  return current;
}
