import type { Etcd3 } from 'etcd3';
import { commitAtomic, commitSplit } from '../../etcd/commit';
import { TransactionTooLargeError } from '../../etcd/errors';
import { atomicLimitExceeded, KeyOp, OWNERS_ROOT } from '../../etcd/key-ops';

/**
 * Commits one container's change: puts and deletes in one transaction, so a consumer never sees a
 * changed service missing or half written. Past etcd's limits, the puts go first (each service's
 * guard key with its record) and the deletes after, so no service is ever missing in between.
 * Resolves with the revision the (first) puts were written at.
 */
export async function commitChange(etcd: Etcd3, puts: readonly KeyOp[], deletes: readonly KeyOp[]): Promise<string> {
  try {
    return await commitAtomic(etcd, [...puts, ...deletes]);
  } catch (err) {
    if (!(err instanceof TransactionTooLargeError)) throw err;
  }
  const revision = await commitInPairs(etcd, puts);
  await commitSplit(etcd, deletes);
  return revision;
}

/** Puts too many for one transaction: each service's guard key and record go together; resolves with the first's revision. */
async function commitInPairs(etcd: Etcd3, puts: readonly KeyOp[]): Promise<string> {
  let first: string | undefined;
  for (const batch of splitKeepingPairs(puts)) first ??= await commitAtomic(etcd, batch);
  return first ?? '0';
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
