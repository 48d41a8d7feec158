import type { Etcd3 } from 'etcd3';
import { readPrefixes } from '../etcd/reads';
import type { Logger } from '../log';
import { WarnOnce } from '../warn-once';
import { hameshEntry, hameshServicePrefix, type MeshService } from './layout';

/** Root of the claims on hamesh ports, outside the mesh's own layout. */
export const CLAIMS_ROOT = '/_registrator/claims/hamesh';

/** A claim on a port (the registry core's Claim): filed under `range` as `key`; its holder writes `entry`. */
export interface PortClaim {
  /** Where every claim on this port lies. */
  range: string;
  /** This service's claim there: the range and its URI-encoded `<name>/<id>`. */
  key: string;
  /** The key the holder writes in its tree, and its value. */
  entry: [string, string];
  /** For messages, e.g. `SERVICE_EXTERNAL_PORT 5432`. */
  what: string;
}

/**
 * The claims of one service on the ports a tcp service binds on every node of the mesh
 * (`external_port`, `internal_port`): one per prefix, so only one service may hold each. Every
 * service that wants a port files a claim under
 * `/_registrator/claims/hamesh/<prefix>/<external_port|internal_port>/<n>/` (its URI-encoded
 * `<name>/<id>`); the one whose claim sorts first (byte order) writes the port key in its tree, the
 * others register without it. Pure.
 */
export function hameshClaims(prefix: string, service: MeshService): PortClaim[] {
  const entry = hameshEntry(service);
  if ('rejected' in entry) return [];
  const base = hameshServicePrefix(prefix, service);
  const claims: PortClaim[] = [];
  for (const [attr, port, name] of [
    ['external_port', entry.externalPort, 'SERVICE_EXTERNAL_PORT'],
    ['internal_port', entry.internalPort, 'SERVICE_INTERNAL_PORT'],
  ] as const) {
    if (port === undefined) continue;
    const range = `${CLAIMS_ROOT}/${prefix}/${attr}/${port}/`;
    claims.push({
      range,
      key: `${range}${encodeURIComponent(`${service.name}/${service.id}`)}`,
      entry: [`${base}${attr}`, String(port)],
      what: `${name} ${port}`,
    });
  }
  return claims;
}

/** What judging one claim found: whether it wins, the claimant that does (`<name>/<id>`), and the others. */
export interface ClaimVerdict {
  wins: boolean;
  holder: string;
  others: string[];
}

/**
 * Judges claims from what etcd holds in their ranges: a claim wins when its key sorts first among
 * the claims filed there and the ones judged with it. Returns the verdict per claim key. Pure.
 */
export function judgeClaims(claims: readonly PortClaim[], filed: ReadonlyMap<string, readonly string[]>): Map<string, ClaimVerdict> {
  const out = new Map<string, ClaimVerdict>();
  for (const claim of claims) {
    // The claims being judged together count as filed: two of them on one port see each other.
    const together = claims.filter((c) => c.range === claim.range).map((c) => c.key);
    const all = [...new Set([...(filed.get(claim.range) ?? []), ...together])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const claimant = (k: string) => decodeURIComponent(k.slice(claim.range.length));
    out.set(claim.key, {
      wins: all[0] === claim.key,
      holder: claimant(all[0]),
      others: all.filter((k) => k !== claim.key).map(claimant),
    });
  }
  return out;
}

/**
 * The claims filed on the ports of `claims`, by range: one batched read of every range (each in
 * pages when large), so it costs the claimants of these ports, not the fleet.
 */
export async function readFiledClaims(etcd: Etcd3, claims: readonly PortClaim[]): Promise<Map<string, string[]>> {
  const filed = await readPrefixes(
    etcd,
    claims.map((c) => c.range),
  );
  return new Map([...filed].map(([range, kvs]) => [range, [...kvs.keys()]]));
}

/** The port claims of one hamesh prefix, as the etcd registry core takes them (its ClaimHook, registration-ops.ts). */
export class HameshPortClaims {
  private readonly lostClaims = new Set<string>();
  /** What was last said about each claim, so a resync does not repeat it. */
  private readonly said = new WarnOnce({ emptyForgets: true });

  constructor(private readonly prefix: string) {}

  get lost(): ReadonlySet<string> {
    return this.lostClaims;
  }

  of(service: MeshService): PortClaim[] {
    return hameshClaims(this.prefix, service);
  }

  /**
   * Judges the claims of these services from the claims filed in their ranges (one range read per
   * port claimed: its claimants, not the fleet), remembers the lost ones, and says once who keeps a
   * port that several services claim.
   */
  async judge(etcd: Etcd3, services: readonly MeshService[], log?: Logger): Promise<void> {
    const claims = services.flatMap((s) => this.of(s).map((claim) => ({ claim, service: s })));
    if (claims.length === 0) return;
    const verdicts = judgeClaims(
      claims.map((c) => c.claim),
      await readFiledClaims(
        etcd,
        claims.map((c) => c.claim),
      ),
    );
    for (const { claim, service } of claims) {
      const { wins, others } = verdicts.get(claim.key)!;
      if (wins) this.lostClaims.delete(claim.key);
      else this.lostClaims.add(claim.key);
      const text = others.length === 0 ? '' : `${wins}:${others.join(' ')}`;
      if (!this.said.isNew(claim.key, text)) continue;
      const message = wins
        ? 'port claimed by other services too: this one keeps it (its name/id sorts first)'
        : 'port held by another service (its name/id sorts first): registered without it';
      log?.warn(message, { service: service.id, container: service.origin.containerName, port: claim.what, others });
    }
  }
}
