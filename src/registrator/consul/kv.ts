import { ConsulClient, keyPath } from './client';

/** One KV entry as `GET /v1/kv/<key>` gives it, value decoded. */
export interface KvEntry {
  key: string;
  value: string;
  modifyIndex: number;
}

interface KvPair {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
  Flags?: number;
  CreateIndex?: number;
  LockIndex?: number;
}

function decode(pair: KvPair): KvEntry {
  return {
    key: pair.Key,
    value: pair.Value === null ? '' : Buffer.from(pair.Value, 'base64').toString('utf8'),
    modifyIndex: pair.ModifyIndex,
  };
}

/** The key's entry, or undefined when Consul has no such key (404). */
export async function kvGet(client: ConsulClient, key: string): Promise<KvEntry | undefined> {
  const pairs = await client.json<KvPair[]>('GET', `/v1/kv/${keyPath(key)}`, { accept: [404] });
  const pair = pairs?.find((p) => p.Key === key);
  return pair ? decode(pair) : undefined;
}

/** Every entry under `prefix` (`?recurse`), by key; empty when there is none (404). */
export async function kvList(client: ConsulClient, prefix: string): Promise<Map<string, KvEntry>> {
  const pairs = await client.json<KvPair[]>('GET', `/v1/kv/${keyPath(prefix)}`, { query: { recurse: true }, accept: [404] });
  return new Map((pairs ?? []).map((p) => [p.Key, decode(p)]));
}

/** Writes a key; throws when Consul answers `false`. */
export async function kvPut(client: ConsulClient, key: string, value: string): Promise<void> {
  const done = await client.json<boolean>('PUT', `/v1/kv/${keyPath(key)}`, { raw: value });
  if (done !== true) throw new Error(`consul PUT /v1/kv/${key}: Consul answered ${JSON.stringify(done)}`);
}

/**
 * Deletes a key; with `cas`, only while its ModifyIndex is still `cas` (resolves false when it changed
 * meanwhile). Deleting a key that is not there succeeds.
 */
export async function kvDelete(client: ConsulClient, key: string, cas?: number): Promise<boolean> {
  const done = await client.json<boolean>('DELETE', `/v1/kv/${keyPath(key)}`, { query: { cas } });
  return done === true;
}
