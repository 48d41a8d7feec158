import type { ICompare, IRequestOp } from 'etcd3';

/**
 * Key operations, how they fit in etcd transactions, and where hosts file their ownership records.
 * Pure: no etcd client, no I/O; the commit path (commit.ts) sends what this module packs.
 */

/** etcd's limits (etcd's --max-txn-ops and --max-request-bytes defaults): 128 operations per transaction, 1.5 MiB per request. */
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
  if ('delete' in op && op.ifValue !== undefined)
    compare.push({ key: Buffer.from(op.delete), target: 'Value', result: 'Equal', value: Buffer.from(op.ifValue) });
  if (op.ifRevision)
    compare.push({ key: Buffer.from(op.ifRevision.key), target: 'Mod', result: 'Equal', mod_revision: op.ifRevision.modRevision });
  // A nested transaction keeps a conditional delete inside the one outer transaction.
  return compare.length === 0 ? del : { request_txn: { compare, success: [del] } };
}

/** Bytes an op takes in a request (UTF-8 lengths plus framing), for the request size limit. */
function opSize(op: KeyOp): number {
  if ('put' in op) return Buffer.byteLength(op.put) + Buffer.byteLength(op.value) + 16;
  const guard = op.ifRevision ? Buffer.byteLength(op.ifRevision.key) + 32 : 0;
  if ('deletePrefix' in op) return Buffer.byteLength(op.deletePrefix) * 2 + 16 + guard;
  return Buffer.byteLength(op.delete) + Buffer.byteLength(op.ifValue ?? '') + 32 + guard;
}

/** A conditional delete is a nested transaction, which etcd lets use only what its parent leaves of the 128. */
function isNested(op: KeyOp): boolean {
  return !('put' in op) && (op.ifRevision !== undefined || ('delete' in op && op.ifValue !== undefined));
}

/*
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

/** Smallest number of nested groups that holds `count` ops (1: no nesting needed). */
function groupCount(ops: readonly KeyOp[]): number | undefined {
  const flatLimit = ops.some(isNested) ? MAX_TXN_OPS - 1 : MAX_TXN_OPS;
  if (ops.length <= flatLimit) return 1;
  for (let g = 2; g <= MAX_GROUPS; g++) if (g * (MAX_TXN_OPS - 1 - g) >= ops.length) return g;
  return undefined;
}

/**
 * Ops as one etcd transaction: the groups to send them in (a single group is a flat transaction,
 * several are nested ones), or, in `tooLarge`, which limit they pass.
 */
export type AtomicPacking = { groups: ReadonlyArray<readonly KeyOp[]>; tooLarge?: undefined } | { groups?: undefined; tooLarge: string };

/** Packs `ops` into one transaction, or says why they cannot be one. The one size check of the commit path. */
export function packAtomic(ops: readonly KeyOp[]): AtomicPacking {
  const groups = groupCount(ops);
  if (groups === undefined) return { tooLarge: `${ops.length} keys, more than the ${MAX_ATOMIC_OPS} one etcd transaction can hold` };
  const bytes = ops.reduce((sum, op) => sum + opSize(op), 0) + (groups > 1 ? groups * GROUP_OVERHEAD : 0);
  if (bytes > MAX_TXN_BYTES) {
    const limit = `the ${MAX_TXN_BYTES} one etcd transaction is given (etcd takes 1.5 MiB per request)`;
    return { tooLarge: `${bytes} bytes of keys and values, more than ${limit}` };
  }
  if (groups === 1) return { groups: [ops] };
  const size = Math.ceil(ops.length / groups);
  const out: Array<readonly KeyOp[]> = [];
  for (let i = 0; i < ops.length; i += size) out.push(ops.slice(i, i + size));
  return { groups: out };
}

/** Why `ops` cannot be one transaction, or undefined when they can (for callers that decide before committing). */
export function atomicLimitExceeded(ops: readonly KeyOp[]): string | undefined {
  return packAtomic(ops).tooLarge;
}

/** The request list of one packed transaction: flat for a single group, else one nested transaction per group. */
export function atomicRequests(groups: ReadonlyArray<readonly KeyOp[]>): IRequestOp[] {
  if (groups.length === 1) return groups[0].map(toRequestOp);
  return groups.map((group) => ({ request_txn: { success: group.map(toRequestOp) } }));
}

/**
 * Splits ops that need not be one transaction (deletions) into transactions no larger than etcd
 * accepts; a small list stays one transaction.
 */
export function splitIntoTransactions(ops: readonly KeyOp[]): KeyOp[][] {
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

/** The keys a transaction touches, and the prefixes it deletes. */
function touched(ops: readonly KeyOp[]): { keys: string[]; prefixes: string[] } {
  const keys: string[] = [];
  const prefixes: string[] = [];
  for (const op of ops) {
    if ('deletePrefix' in op) prefixes.push(op.deletePrefix);
    else keys.push('put' in op ? op.put : op.delete);
  }
  return { keys, prefixes };
}

/**
 * Groups transactions of one moment that can be sent as one: together within etcd's 128 operations
 * (127 with a nested one) and request size, touching no key twice and deleting no prefix that holds
 * a key another part touches (etcd refuses a transaction that does). Order is kept; a transaction
 * that cannot be merged forms a group of its own.
 */
export function mergeTransactions<T extends { ops: readonly KeyOp[] }>(items: readonly T[]): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let count = 0;
  let bytes = 0;
  let nested = false;
  let keys = new Set<string>();
  let prefixes: string[] = [];
  const close = () => {
    if (current.length > 0) groups.push(current);
    current = [];
    count = 0;
    bytes = 0;
    nested = false;
    keys = new Set();
    prefixes = [];
  };
  const underAny = (key: string, list: readonly string[]) => list.some((p) => key.startsWith(p));
  for (const item of items) {
    const own = touched(item.ops);
    const itemBytes = item.ops.reduce((sum, op) => sum + opSize(op), 0);
    const itemNested = item.ops.some(isNested);
    const limit = nested || itemNested ? MAX_TXN_OPS - 1 : MAX_TXN_OPS;
    const fits =
      current.length > 0 &&
      count + item.ops.length <= limit &&
      bytes + itemBytes <= MAX_TXN_BYTES &&
      own.keys.every((k) => !keys.has(k) && !underAny(k, prefixes)) &&
      own.prefixes.every((p) => ![...keys].some((k) => k.startsWith(p)) && !prefixes.some((q) => q.startsWith(p) || p.startsWith(q)));
    if (!fits) close();
    current.push(item);
    count += item.ops.length;
    bytes += itemBytes;
    nested ||= itemNested;
    for (const k of own.keys) keys.add(k);
    prefixes.push(...own.prefixes);
  }
  close();
  return groups;
}

// --- Ownership records ---

/**
 * Ownership records: next to what a host writes, in the same transaction, it files a record under
 * its own prefix, so it finds everything it wrote by reading only that prefix (whatever the fleet
 * holds) and never mistakes another host's keys for its own.
 */

import { OWNERS_ROOT } from '../owners-root';

export { OWNERS_ROOT };

/**
 * One host's records for one writer: `/_registrator/owners/<host>/<scope>/`, the scope naming the
 * writer and its prefix (`mirror/registry`, `hamesh/mesh`, `etcd/services`).
 */
export function ownersPrefix(host: string, scope: string): string {
  return `${OWNERS_ROOT}/${host}/${scope}/`;
}
