import type { EngineIdentity } from '../docker/engine-info';

/**
 * Where a host name is claimed: `/_registrator/hosts/<host>`, outside the layout consumers read.
 * One lease-held key per live daemon (docs/fleet.md, "One daemon per host name").
 */
export const CLAIMS_PREFIX = '/_registrator/hosts/';

export function claimKey(host: string): string {
  return `${CLAIMS_PREFIX}${host}`;
}

/** What a claim says: which engine the daemon serves and where it runs. */
export interface ClaimRecord {
  host: string;
  engine: EngineIdentity;
  /** The OS hostname of the machine (or container) the daemon runs on. */
  hostname: string;
  pid: number;
  version: string;
  /** When the daemon took the claim (RFC 3339). */
  since: string;
}

/** A claim's value read back; undefined when it is not one (a hand-written key). */
export function parseClaim(value: string): ClaimRecord | undefined {
  try {
    const v = JSON.parse(value) as Partial<ClaimRecord>;
    if (typeof v !== 'object' || v === null || typeof v.host !== 'string' || typeof v.engine?.id !== 'string') return undefined;
    return {
      host: v.host,
      engine: { id: v.engine.id, name: String(v.engine.name ?? '') },
      hostname: String(v.hostname ?? ''),
      pid: Number(v.pid ?? 0),
      version: String(v.version ?? ''),
      since: String(v.since ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** One line naming a claim's daemon: its engine (name and ID) and where it runs. */
export function describeClaim(claim: ClaimRecord): string {
  return `engine ${claim.engine.name || '?'} (ID ${claim.engine.id || '?'}), daemon pid ${claim.pid} on ${claim.hostname || '?'} since ${claim.since || '?'}`;
}
