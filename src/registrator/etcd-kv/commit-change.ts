import type { Etcd3 } from 'etcd3';
import { commitAtomic, commitSplit } from '../../etcd/commit';
import { TransactionTooLargeError } from '../../etcd/errors';
import { atomicLimitExceeded, KeyOp, OWNERS_ROOT } from '../../etcd/key-ops';

/** The revision a put of the change was written at, by its key. */
export type WrittenAt = (key: string) => string;

/**
 * Commits one container's change: puts and deletes in one transaction, so a consumer never sees a
 * changed service missing or half written. Past etcd's limits, the puts go first (each service's
 * guard key with its record) and the deletes after, so no service is ever missing in between; each
 * service is then at the revision of its own transaction.
 */
export async function commitChange(etcd: Etcd3, puts: readonly KeyOp[], deletes: readonly KeyOp[]): Promise<WrittenAt> {
  try {
    const revision = await commitAtomic(etcd, [...puts, ...deletes]);
    return () => revision;
  } catch (err) {
    if (!(err instanceof TransactionTooLargeError)) throw err;
  }
  const revisions = await commitInPairs(etcd, puts);
  await commitSplit(etcd, deletes);
  const last = [...revisions.values()].at(-1) ?? '0';
  return (key) => revisions.get(key) ?? last;
}

/** Puts too many for one transaction, one batch after another: each service's guard key and record go together. */
async function commitInPairs(etcd: Etcd3, puts: readonly KeyOp[]): Promise<Map<string, string>> {
  const revisions = new Map<string, string>();
  for (const batch of splitKeepingPairs(puts)) {
    const revision = await commitAtomic(etcd, batch);
    for (const op of batch) if ('put' in op) revisions.set(op.put, revision);
  }
  return revisions;
}

/** Splits puts into atomic transactions, never between a guard key and the record right after it. Pure. */
export function splitKeepingPairs(puts: readonly KeyOp[]): KeyOp[][] {
  const batches: KeyOp[][] = [];
  let current: KeyOp[] = [];
  for (let i = 0; i < puts.length; i++) {
    const pair = [puts[i], ...(isRecord(puts[i + 1]) ? [puts[++i]] : [])];
    if (current.length > 0 && atomicLimitExceeded([...current, ...pair]) !== undefined) {
      batches.push(current);
      current = [];
    }
    current.push(...pair);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function isRecord(op: KeyOp | undefined): boolean {
  return op !== undefined && 'put' in op && op.put.startsWith(`${OWNERS_ROOT}/`);
}
