import type { Etcd3, IRequestOp } from 'etcd3';
import { isNested, KeyOp, MAX_TXN_BYTES, MAX_TXN_OPS, opSize, toRequestOp } from './ops';
import { batcherFor } from './txn-batcher';

/**
 * One etcd transaction for more than 128 operations. etcd checks each transaction list against
 * --max-txn-ops (128) and a nested transaction against what its parent leaves: 128 minus the
 * parent's own count. So g nested groups of at most 127 - g ops each pass (the 1 spare keeps room
 * for a conditional delete, itself a nested transaction one level down), and the whole list is
 * still one transaction: one revision, all or nothing.
 */

/** Most groups worth using: g * (127 - g) peaks at g = 63. */
const MAX_GROUPS = 63;

/** The most operations one transaction can carry this way (63 groups of 64). */
export const MAX_ATOMIC_OPS = MAX_GROUPS * (MAX_TXN_OPS - 1 - MAX_GROUPS);

/** Framing bytes counted per nested group. */
const GROUP_OVERHEAD = 8;

/** `ops` cannot be one etcd transaction; `reason` says which limit they pass. */
export class TransactionTooLargeError extends Error {
  constructor(readonly reason: string) {
    super(`cannot be written in one etcd transaction: ${reason}`);
    this.name = 'TransactionTooLargeError';
  }
}

/** Smallest number of nested groups that holds `count` ops (1: no nesting needed). */
function groupCount(ops: readonly KeyOp[]): number | undefined {
  const flatLimit = ops.some(isNested) ? MAX_TXN_OPS - 1 : MAX_TXN_OPS;
  if (ops.length <= flatLimit) return 1;
  for (let g = 2; g <= MAX_GROUPS; g++) if (g * (MAX_TXN_OPS - 1 - g) >= ops.length) return g;
  return undefined;
}

/** Why `ops` cannot be committed as one transaction, or undefined when they can. Pure. */
export function atomicLimitExceeded(ops: readonly KeyOp[]): string | undefined {
  const groups = groupCount(ops);
  if (groups === undefined) return `${ops.length} keys, more than the ${MAX_ATOMIC_OPS} one etcd transaction can hold`;
  const bytes = ops.reduce((sum, op) => sum + opSize(op), 0) + (groups > 1 ? groups * GROUP_OVERHEAD : 0);
  if (bytes > MAX_TXN_BYTES) return `${bytes} bytes of keys and values, more than the ${MAX_TXN_BYTES} one etcd transaction is given (etcd takes 1.5 MiB per request)`;
  return undefined;
}

/** The request list of one transaction holding every op, nested in groups when past 128. */
export function packAtomic(ops: readonly KeyOp[]): IRequestOp[] {
  const reason = atomicLimitExceeded(ops);
  if (reason !== undefined) throw new TransactionTooLargeError(reason);
  const groups = groupCount(ops)!;
  if (groups === 1) return ops.map(toRequestOp);
  const size = Math.ceil(ops.length / groups);
  const out: IRequestOp[] = [];
  for (let i = 0; i < ops.length; i += size) out.push({ request_txn: { success: ops.slice(i, i + size).map(toRequestOp) } });
  return out;
}

/**
 * Applies every op in one transaction, or none (TransactionTooLargeError) when they cannot fit;
 * resolves with the transaction's revision.
 */
export async function commitAtomic(client: Etcd3, ops: readonly KeyOp[]): Promise<string> {
  const reason = atomicLimitExceeded(ops);
  if (reason !== undefined) throw new TransactionTooLargeError(reason);
  // A flat transaction may travel with others of the moment (unpacked: the batcher builds the request); a nested one goes alone.
  if (groupCount(ops) === 1) return batcherFor(client).commit(ops);
  return (await client.kv.txn({ success: packAtomic(ops) })).header.revision;
}
