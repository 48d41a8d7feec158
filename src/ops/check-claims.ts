import type { IKeyValue } from 'etcd3';
import { parseClaim } from '../fleet/claim-record';
import type { Finding } from './check-finding';

/** Counts of one pass over the host-name claims (`/_registrator/hosts/`). */
export interface ClaimCounts {
  /** Every key under the prefix. */
  claims: number;
  /** Claims held by a lease: a live daemon each. */
  leased: number;
}

/**
 * Judges the host-name claims (docs/fleet.md): a claim without a lease never ends, so it keeps every
 * other daemon off its host name for good; a key there that is not a claim does the same. Both are
 * findings (`--fix` deletes them while they are unchanged). Pure.
 */
export function judgeClaims(kvs: readonly IKeyValue[]): { counts: ClaimCounts; findings: Finding[] } {
  let leased = 0;
  const findings: Finding[] = [];
  for (const kv of kvs) {
    const key = kv.key.toString();
    const value = kv.value.toString();
    const record = parseClaim(value);
    const lease = String(kv.lease);
    if (lease !== '0') leased++;
    const why = !record
      ? 'not a host-name claim: no daemon can take this host name while it is there'
      : lease === '0'
        ? 'host-name claim without a lease: it never ends by itself, so no other daemon can take this host name'
        : undefined;
    if (why) findings.push({ kind: 'host-claim', key, value, reason: why, judgedOn: [], deletes: [{ key }] });
  }
  return { counts: { claims: kvs.length, leased }, findings };
}
