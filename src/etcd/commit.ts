import { isRecoverableError, type Etcd3 } from 'etcd3';
import { TransactionTooLargeError } from './errors';
import { atomicRequests, KeyOp, mergeTransactions, packAtomic, splitIntoTransactions, toRequestOp } from './key-ops';

/**
 * Every etcd write of the product goes through here: `commitAtomic` for what must be one
 * transaction, `commitSplit` for deletions that may take several. Both share the batcher of their
 * client, so the small transactions of one moment travel together.
 */

/**
 * Applies every op in one transaction, or none: rejects with TransactionTooLargeError, before
 * sending anything, when they cannot fit (a caller that has a fallback catches it). Resolves with
 * the transaction's revision.
 */
export async function commitAtomic(client: Etcd3, ops: readonly KeyOp[]): Promise<string> {
  const packing = packAtomic(ops);
  if (packing.tooLarge !== undefined) throw new TransactionTooLargeError(packing.tooLarge);
  // A flat transaction may travel with others of the moment (unpacked: the batcher builds the request); a nested one goes alone.
  if (packing.groups.length === 1) return batcherFor(client).commit(ops);
  return (await client.kv.txn({ success: atomicRequests(packing.groups) })).header.revision;
}

/**
 * NOT atomic: applies ops in as many transactions as etcd's limits need, all sent at once (etcd
 * commits them together rather than one round trip after another). Meant for deletions (SIGTERM's,
 * a purge's, the removal of an entry too large for one transaction), where a part that lands alone
 * leaves nothing half-written for a reader. Resolves with the number of transactions.
 */
export async function commitSplit(client: Etcd3, ops: readonly KeyOp[]): Promise<number> {
  const batches = splitIntoTransactions(ops);
  await Promise.all(batches.map((batch) => batcherFor(client).commit(batch)));
  return batches.length;
}

/** One transaction waiting to be sent, and who waits for its answer. */
interface Pending {
  ops: readonly KeyOp[];
  /** With the revision of the transaction it travelled in. */
  resolve: (revision: string) => void;
  reject: (err: unknown) => void;
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
class TxnBatcher {
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
    for (const group of mergeTransactions(queue)) void this.send(group);
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
function batcherFor(client: Etcd3): TxnBatcher {
  let batcher = batchers.get(client);
  if (!batcher) {
    batcher = new TxnBatcher(client);
    batchers.set(client, batcher);
  }
  return batcher;
}
