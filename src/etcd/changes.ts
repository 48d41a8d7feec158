import type { Etcd3 } from 'etcd3';
import type { KeyOp } from './key-ops';
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
 * must hold every key the ops name and every key under their delete prefixes, and `revisions` the
 * revision of every key a guard names (see readTouchedKeys); a put of the value a key already holds
 * and a conditional delete whose value or guard does not match change nothing.
 */
export function keyChanges(
  ops: readonly KeyOp[],
  current: ReadonlyMap<string, string>,
  revisions: ReadonlyMap<string, string> = new Map(),
): KeyChange[] {
  const after = new Map(current);
  for (const op of ops) {
    if ('put' in op) {
      after.set(op.put, op.value);
      continue;
    }
    // Guards are judged against etcd as it is before the transaction, as etcd judges them.
    if (op.ifRevision && (revisions.get(op.ifRevision.key) ?? '0') !== op.ifRevision.modRevision) continue;
    if ('deletePrefix' in op) {
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

/** Reads, without writing, the current value of every key `ops` touch and the revision of every key they guard on (see keyChanges). */
export async function readTouchedKeys(
  client: Etcd3,
  ops: readonly KeyOp[],
): Promise<{ current: Map<string, string>; revisions: Map<string, string> }> {
  const keys = new Set<string>();
  const guards = new Set<string>();
  const prefixes = new Set<string>();
  for (const op of ops) {
    if ('put' in op) keys.add(op.put);
    else if ('deletePrefix' in op) prefixes.add(op.deletePrefix);
    else keys.add(op.delete);
    if (!('put' in op) && op.ifRevision) guards.add(op.ifRevision.key);
  }
  const current = new Map<string, string>();
  const revisions = new Map<string, string>();
  for (const [key, stored] of await readStoredKeys(client, [...keys, ...guards])) {
    if (keys.has(key)) current.set(key, stored.value);
    revisions.set(key, stored.modRevision);
  }
  for (const prefix of prefixes) for (const [key, value] of await readPrefix(client, prefix)) current.set(key, value);
  return { current, revisions };
}
