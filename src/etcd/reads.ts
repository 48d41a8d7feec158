import { GRPCResourceExhastedError, type Etcd3, type IKeyValue } from 'etcd3';
import { MAX_TXN_OPS, prefixEnd } from './key-ops';

/**
 * Every etcd read the product makes. None is unbounded: a range that can grow with the data is read
 * in pages (a limit, then on from just after the last key), at one revision, and a page or a batch
 * that etcd's answer would make too large for the client (gRPC's 4 MiB message limit) is read again
 * in halves. What a routine path reads is this host's own keys; only `registrator check` walks a
 * whole prefix, page by page.
 */

/** Keys per page: far below the message limit for keys of ordinary size (the halving covers the rest). */
const PAGE_KEYS = 1000;

/** Prefixes read together in one transaction of ranges (each range capped at RANGE_KEYS keys). */
const PREFIXES_PER_TXN = 64;
const RANGE_KEYS = 256;

/** One page of a prefix read: its keys in order, at the revision the whole read is pinned to. */
export interface Page {
  kvs: IKeyValue[];
  revision: string;
}

/** Whether etcd's answer was too large for the client (gRPC's message limit): ask again for less. */
export function tooLarge(err: unknown): boolean {
  return err instanceof GRPCResourceExhastedError || /larger than max|RESOURCE_EXHAUSTED/i.test((err as Error)?.message ?? '');
}

/**
 * The keys under `prefix`, a page at a time, all at one revision (`revision`, else the first page's).
 * A page too large for one answer is asked for again with half the limit, down to one key.
 */
export async function* prefixPages(
  client: Etcd3,
  prefix: string,
  options: { pageSize?: number; revision?: string } = {},
): AsyncGenerator<Page> {
  const end = prefixEnd(prefix);
  let start = Buffer.from(prefix);
  let revision = options.revision;
  let limit = options.pageSize ?? PAGE_KEYS;
  for (;;) {
    let res;
    try {
      res = await client.kv.range({ key: start, range_end: end, limit, ...(revision ? { revision } : {}) });
    } catch (err) {
      if (!tooLarge(err) || limit === 1) throw err;
      limit = Math.max(1, Math.floor(limit / 2));
      continue;
    }
    revision ??= res.header.revision;
    if (res.kvs.length > 0) yield { kvs: res.kvs, revision };
    if (!res.more || res.kvs.length === 0) return;
    start = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
  }
}

/** Every key/value under `prefix` (read in pages at one revision). For prefixes that hold one host's or one container's keys. */
export async function readPrefix(client: Etcd3, prefix: string, pageSize = PAGE_KEYS): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const page of prefixPages(client, prefix, { pageSize }))
    for (const kv of page.kvs) out.set(kv.key.toString(), kv.value.toString());
  return out;
}

/**
 * The keys under each of many small prefixes (one container's entry each), by prefix: up to 64
 * prefixes per transaction of ranges, one round trip for a host's usual containers. A prefix holding
 * more than a range gives is read on its own, in pages; a batch whose answer is too large, in halves.
 */
export async function readPrefixes(client: Etcd3, prefixes: readonly string[]): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  const readBatch = async (batch: readonly string[]): Promise<void> => {
    let res;
    try {
      res = await client.kv.txn({
        success: batch.map((p) => ({ request_range: { key: Buffer.from(p), range_end: prefixEnd(p), limit: RANGE_KEYS } })),
      });
    } catch (err) {
      if (!tooLarge(err)) throw err;
      if (batch.length === 1) return void out.set(batch[0], await readPrefix(client, batch[0], RANGE_KEYS));
      const half = Math.ceil(batch.length / 2);
      await readBatch(batch.slice(0, half));
      return readBatch(batch.slice(half));
    }
    for (const [i, r] of res.responses.entries()) {
      const range = r.response_range;
      if (range?.more) out.set(batch[i], await readPrefix(client, batch[i], RANGE_KEYS));
      else out.set(batch[i], new Map((range?.kvs ?? []).map((kv) => [kv.key.toString(), kv.value.toString()])));
    }
  };
  const unique = [...new Set(prefixes)];
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += PREFIXES_PER_TXN) batches.push(unique.slice(i, i + PREFIXES_PER_TXN));
  await Promise.all(batches.map(readBatch));
  return out;
}

/** A key's value, the lease holding it (`'0'`: none) and the revision it was last written at. */
export interface StoredValue {
  value: string;
  lease: string;
  modRevision: string;
}

/**
 * The current values (and leases) of many single keys, read in transactions of at most 128 ranges
 * (in halves when an answer would be too large); `revision` pins them to one past revision.
 */
export async function readStoredKeys(client: Etcd3, keys: readonly string[], revision?: string): Promise<Map<string, StoredValue>> {
  const out = new Map<string, StoredValue>();
  const readBatch = async (batch: readonly string[]): Promise<void> => {
    let res;
    try {
      res = await client.kv.txn({
        success: batch.map((key) => ({ request_range: { key: Buffer.from(key), ...(revision ? { revision } : {}) } })),
      });
    } catch (err) {
      if (!tooLarge(err) || batch.length === 1) throw err;
      const half = Math.ceil(batch.length / 2);
      await readBatch(batch.slice(0, half));
      return readBatch(batch.slice(half));
    }
    for (const r of res.responses)
      for (const kv of r.response_range?.kvs ?? [])
        out.set(kv.key.toString(), { value: kv.value.toString(), lease: String(kv.lease ?? '0'), modRevision: String(kv.mod_revision) });
  };
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += MAX_TXN_OPS) batches.push(keys.slice(i, i + MAX_TXN_OPS));
  await Promise.all(batches.map(readBatch));
  return out;
}
