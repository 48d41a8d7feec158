import type { Etcd3 } from 'etcd3';
import { prefixPages, readStoredKeys, type StoredValue } from '../../etcd/reads';
import type { UnreadableRecord } from '../backend';
import type { KeyLayout } from '../registration-ops';
import type { Service } from '../service';
import { serviceOfRecord } from '../service-record';

/** An ownership record of this host, read back. */
export interface StoredRecord {
  key: string;
  service: Service;
  /** The record's revision: when this host last wrote the service. */
  revision: string;
}

/**
 * This host's ownership records of one registry (under `ownersPrefix`), and the keys of their
 * services and claims as etcd holds them now. Reads this host's records and their services' keys only.
 */
export async function readHostRecords(
  etcd: Etcd3,
  layout: KeyLayout,
  ownersPrefix: string,
): Promise<{ records: StoredRecord[]; unreadable: UnreadableRecord[]; current: Map<string, StoredValue> }> {
  const records: StoredRecord[] = [];
  const unreadable: UnreadableRecord[] = [];
  for await (const page of prefixPages(etcd, ownersPrefix)) {
    for (const kv of page.kvs) {
      const key = kv.key.toString();
      const value = kv.value.toString();
      const service = serviceOfRecord(value);
      if (service) records.push({ key, service, revision: String(kv.mod_revision) });
      else unreadable.push({ key, value });
    }
  }
  const claimKeys = (s: Service) => (layout.claims?.of(s) ?? []).flatMap((c) => [c.key, c.entry[0]]);
  const current = await readStoredKeys(
    etcd,
    records.flatMap((r) => [...layout.entries(r.service).map(([key]) => key), ...claimKeys(r.service)]),
  );
  return { records, unreadable, current };
}

/** How a record is judged against what etcd holds. */
export interface RecordJudging {
  /** The host, the value its claims are filed with. */
  host: string;
  /** The lease its keys must be held by ('0': none); ignored with `anyLease`. */
  lease: string;
  /** Read-only use: a key holding the value written counts, whichever lease holds it. */
  anyLease: boolean;
}

/**
 * How the registry holds one recorded service: intact, missing a key (to be written again), or
 * taken over by a later registration of the same keys (left alone); and the revision this host's
 * write is guarded by from now on. Pure.
 */
export function judgeRecord(
  layout: KeyLayout,
  record: StoredRecord,
  current: ReadonlyMap<string, StoredValue>,
  judging: RecordJudging,
): { intact: boolean; takenOver: boolean; revision: string } {
  const { service, revision } = record;
  const entries = layout.entries(service);
  const guard = entries[0] ? current.get(entries[0][0]) : undefined;
  // Written after this host's record: another registration of the same keys has won them.
  const takenOver = guard !== undefined && BigInt(guard.modRevision) > BigInt(revision);
  // Under -ttl a key must also be held by the current lease: one left by an earlier lease expires with it.
  const holds = ([k, v]: [string, string]) => current.get(k)?.value === v && (judging.anyLease || current.get(k)?.lease === judging.lease);
  // A claimed key is written by the claim's winner only; a lost one still written by this host must go.
  const lost = layout.claims?.lost ?? new Set<string>();
  const claimsAsJudged = (layout.claims?.of(service) ?? []).every(
    (c) => holds([c.key, judging.host]) && (lost.has(c.key) ? current.get(c.entry[0])?.modRevision !== guard?.modRevision : holds(c.entry)),
  );
  const intact = entries.every(holds) && claimsAsJudged;
  return { intact: intact || takenOver, takenOver, revision: takenOver || !guard ? revision : guard.modRevision };
}
