import { isRecoverableError, type Etcd3 } from 'etcd3';
import { isNested, KeyOp, MAX_TXN_BYTES, MAX_TXN_OPS, opSize, toRequestOp } from './ops';

/** One transaction waiting to be sent, and who waits for its answer. */
interface Pending {
  ops: readonly KeyOp[];
  /** With the revision of the transaction it travelled in. */
  resolve: (revision: string) => void;
  reject: (err: unknown) => void;
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
 * Groups transactions that can be sent as one: together within etcd's 128 operations (127 with a
 * nested one) and request size, touching no key twice and deleting no prefix that holds a key
 * another part touches (etcd refuses a transaction that does). Order is kept; a transaction that
 * cannot be merged forms a group of its own. Pure.
 */
export function mergeGroups<T extends { ops: readonly KeyOp[] }>(items: readonly T[]): T[][] {
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

/**
 * Sends the transactions given to one etcd client in the same turn of the event loop as few
 * transactions as they fit in. The writers of one container (mirror, hamesh, etcd) and the
 * containers synced at once each commit their own small transaction; merged, etcd commits them
 * in one raft round instead of one each. Each part stays whole (it is all inside one transaction).
 *
 * A merged transaction that etcd refuses for a reason one part could cause (a lost lease, a
 * permission) is sent again part by part, so every caller gets the answer its own ops deserve.
 * One that fails because etcd cannot be reached fails every part with that error.
 */
export class TxnBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly client: Etcd3) {}

  /** Commits `ops` as one transaction (they must fit in one), possibly together with others; resolves with its revision. */
  commit(ops: readonly KeyOp[]): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (const group of mergeGroups(queue)) void this.send(group);
  }

  private async send(group: Pending[]): Promise<void> {
    if (group.length === 1) return this.sendOne(group[0]);
    let revision: string;
    try {
      revision = (await this.client.kv.txn({ success: group.flatMap((p) => p.ops.map(toRequestOp)) })).header.revision;
    } catch (err) {
      if (isRecoverableError(err as Error)) {
        for (const p of group) p.reject(err);
        return;
      }
      await Promise.all(group.map((p) => this.sendOne(p)));
      return;
    }
    for (const p of group) p.resolve(revision);
  }

  private async sendOne(p: Pending): Promise<void> {
    try {
      p.resolve((await this.client.kv.txn({ success: p.ops.map(toRequestOp) })).header.revision);
    } catch (err) {
      p.reject(err);
    }
  }
}

const batchers = new WeakMap<Etcd3, TxnBatcher>();

/** The batcher of one etcd client (every writer on that client shares it). */
export function batcherFor(client: Etcd3): TxnBatcher {
  let batcher = batchers.get(client);
  if (!batcher) {
    batcher = new TxnBatcher(client);
    batchers.set(client, batcher);
  }
  return batcher;
}
