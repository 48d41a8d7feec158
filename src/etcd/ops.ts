import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import { batcherFor } from './txn-batcher';

/** etcd's limits (SPEC, TESTING.md): 128 operations per transaction, 1.5 MiB per request. */
export const MAX_TXN_OPS = 128;
export const MAX_TXN_BYTES = 1024 * 1024;

/**
 * A guard on a deletion: `key` was last written at `modRevision`, i.e. nobody has written it since
 * this host did (the same value written again by another host still moves the revision).
 */
export interface RevisionGuard {
  key: string;
  modRevision: string;
}

/**
 * One write: put a key; delete a key (only while it still holds `ifValue`, or while `ifRevision`
 * holds); delete every key under a prefix (only while `ifRevision` holds).
 */
export type KeyOp =
  | { put: string; value: string; lease?: string }
  | { delete: string; ifValue?: string; ifRevision?: RevisionGuard }
  | { deletePrefix: string; ifRevision?: RevisionGuard };

/** First key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function toRequestOp(op: KeyOp): IRequestOp {
  if ('put' in op) {
    return { request_put: { key: Buffer.from(op.put), value: Buffer.from(op.value), ...(op.lease ? { lease: op.lease } : {}) } };
  }
  const del: IRequestOp =
    'deletePrefix' in op
      ? { request_delete_range: { key: Buffer.from(op.deletePrefix), range_end: prefixEnd(op.deletePrefix) } }
      : { request_delete_range: { key: Buffer.from(op.delete) } };
  const compare: ICompare[] = [];
  if ('delete' in op && op.ifValue !== undefined) compare.push({ key: Buffer.from(op.delete), target: 'Value', result: 'Equal', value: Buffer.from(op.ifValue) });
  if (op.ifRevision) compare.push({ key: Buffer.from(op.ifRevision.key), target: 'Mod', result: 'Equal', mod_revision: op.ifRevision.modRevision });
  // A nested transaction keeps a conditional delete inside the one outer transaction.
  return compare.length === 0 ? del : { request_txn: { compare, success: [del] } };
}

/** Bytes an op takes in a request (UTF-8 lengths plus framing), for the request size limit. */
export function opSize(op: KeyOp): number {
  if ('put' in op) return Buffer.byteLength(op.put) + Buffer.byteLength(op.value) + 16;
  const guard = op.ifRevision ? Buffer.byteLength(op.ifRevision.key) + 32 : 0;
  if ('deletePrefix' in op) return Buffer.byteLength(op.deletePrefix) * 2 + 16 + guard;
  return Buffer.byteLength(op.delete) + Buffer.byteLength(op.ifValue ?? '') + 32 + guard;
}

/** A conditional delete is a nested transaction, which etcd lets use only what its parent leaves of the 128. */
export function isNested(op: KeyOp): boolean {
  return !('put' in op) && (op.ifRevision !== undefined || ('delete' in op && op.ifValue !== undefined));
}

/** Splits ops into transactions no larger than etcd accepts; a small list stays one transaction. */
export function batchOps(ops: readonly KeyOp[]): KeyOp[][] {
  const batches: KeyOp[][] = [];
  let current: KeyOp[] = [];
  let bytes = 0;
  let nested = false;
  for (const op of ops) {
    const size = opSize(op);
    // With a nested op in it, a batch of 128 leaves that op no budget: etcd refuses it.
    const limit = nested || isNested(op) ? MAX_TXN_OPS - 1 : MAX_TXN_OPS;
    if (current.length > 0 && (current.length >= limit || bytes + size > MAX_TXN_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
      nested = false;
    }
    current.push(op);
    bytes += size;
    nested ||= isNested(op);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Applies ops that need not be one transaction (deletions: SIGTERM's, a purge's, a split removal's)
 * in as few transactions as etcd's limits allow, all sent at once: etcd commits them together rather
 * than one round trip after another. Each may travel with others of the moment (TxnBatcher).
 */
export async function commitOps(client: Etcd3, ops: readonly KeyOp[]): Promise<number> {
  const batches = batchOps(ops);
  await Promise.all(batches.map((batch) => batcherFor(client).commit(batch)));
  return batches.length;
}
