import type { Etcd3 } from 'etcd3';
import { prefixEnd } from './key-ops';
import { tooLarge } from './reads';

/**
 * Keys per deletion of a purge. One DeleteRange of a whole fleet's mirror (1.7 M keys in one
 * revision, with watches open) drove a 2-core etcd 3.4 to 23 GB and the kernel's OOM killer in the
 * refill benchmark (docs/performance.md, "Refill"); 10,000 keys at a time it stays small.
 */
const PURGE_PAGE_KEYS = 10_000;

/**
 * SIGUSR2's purge: deletes every key under `prefix` a page at a time: the page's keys read
 * keys-only (a page whose answer is too large is asked for again with half the limit), then the
 * span from the page's start to just after its last key deleted. NOT atomic, as a one-request
 * deletion is not either for a reader that watches: a key written behind the cursor meanwhile (a
 * host's routine write) stays. Resolves with the number of deletions sent.
 */
export async function deletePrefixInPages(client: Etcd3, prefix: string, pageKeys = PURGE_PAGE_KEYS): Promise<number> {
  const end = prefixEnd(prefix);
  let from = Buffer.from(prefix);
  let limit = pageKeys;
  let deletions = 0;
  for (;;) {
    let page;
    try {
      page = await client.kv.range({ key: from, range_end: end, keys_only: true, limit });
    } catch (err) {
      if (!tooLarge(err) || limit === 1) throw err;
      limit = Math.max(1, Math.floor(limit / 2));
      continue;
    }
    if (page.kvs.length === 0) return deletions;
    const next = Buffer.concat([page.kvs[page.kvs.length - 1].key, Buffer.from([0])]);
    await client.kv.deleteRange({ key: from, range_end: next });
    deletions++;
    from = next;
  }
}
