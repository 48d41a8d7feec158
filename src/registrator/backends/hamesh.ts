import type { BackendFactory } from '../backend';
import { etcdKvBackend } from '../etcd-kv-backend';
import type { Service } from '../service';

/**
 * hamesh://[host:port]/<prefix> (docs/registrator.md#hamesh): one key tree per service, written in
 * one transaction, deleted whole; an external or internal port is held by one service of the prefix
 * (claims); SIGUSR2 purges the prefix of every host.
 */
export const createHameshBackend: BackendFactory = (uri, context) =>
  etcdKvBackend(uri, context, {
    root: `/${uri.path}/`,
    entries: (s) => hameshKeys(uri.path, s),
    tree: (s) => hameshServicePrefix(uri.path, s),
    reject: (s) => {
      const entry = hameshEntry(s);
      return 'rejected' in entry ? entry.rejected : undefined;
    },
    notes: (s) => {
      const entry = hameshEntry(s);
      return 'rejected' in entry ? [] : entry.notes;
    },
    claims: (s) => hameshClaims(uri.path, s),
    purgePrefixes: [`/${uri.path}/`],
  });

// --- The hamesh key layout (pure) ---

export type HameshMode = 'http' | 'tcp';

/** A DNS name: labels of 1-63 letters, digits and inner hyphens; 253 characters at most. */
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label));
}

function parsePort(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) return 'invalid';
  const n = Number(value.trim());
  return n >= 1 && n <= 65535 ? n : 'invalid';
}

export interface HameshEntry {
  mode: HameshMode;
  domains: string[];
  externalPort?: number;
  internalPort?: number;
  /** What is odd but does not stop the service (metadata its mode does not use); logged once per container. */
  notes: string[];
}

/**
 * What HAProxy needs to know of one service (docs/registrator.md), from its SERVICE_MODE,
 * SERVICE_DOMAINS, SERVICE_EXTERNAL_PORT and SERVICE_INTERNAL_PORT metadata; or why the service
 * cannot be meshed. An empty SERVICE_MODE is tcp, as an absent one. Metadata the mode does not use
 * (domains for tcp, ports for http) is not judged: it is left out with a note, not a rejection.
 */
export function hameshEntry(service: Service): HameshEntry | { rejected: string } {
  const mode = (service.attrs.mode ?? '').trim().toLowerCase() || 'tcp';
  if (mode !== 'http' && mode !== 'tcp') return { rejected: `unknown SERVICE_MODE "${service.attrs.mode}" (http or tcp)` };
  const notes: string[] = [];
  const domains = (service.attrs.domains ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  if (mode === 'http') {
    const invalid = domains.find((d) => !isDnsName(d));
    if (invalid !== undefined) return { rejected: `"${invalid}" in SERVICE_DOMAINS is not a valid DNS name` };
    if (domains.length === 0) return { rejected: 'SERVICE_MODE=http needs SERVICE_DOMAINS' };
    for (const [attr, name] of [
      ['external_port', 'SERVICE_EXTERNAL_PORT'],
      ['internal_port', 'SERVICE_INTERNAL_PORT'],
    ] as const) {
      if ((service.attrs[attr] ?? '').trim() !== '')
        notes.push(`${name} is for tcp services; SERVICE_MODE=http does not use it (left out)`);
    }
    return { mode, domains: [...new Set(domains)], notes };
  }
  if (domains.length > 0) notes.push('SERVICE_DOMAINS is for http services; a tcp service does not use it (left out)');
  const externalPort = parsePort(service.attrs.external_port);
  const internalPort = parsePort(service.attrs.internal_port);
  if (externalPort === 'invalid') return { rejected: `SERVICE_EXTERNAL_PORT "${service.attrs.external_port}" is not a port (1-65535)` };
  if (internalPort === 'invalid') return { rejected: `SERVICE_INTERNAL_PORT "${service.attrs.internal_port}" is not a port (1-65535)` };
  return { mode, domains: [], externalPort, internalPort, notes };
}

/** The keys of one service under `/<prefix>/<name>/<id>/` (docs/registrator.md, "HaMesh"). */
export function hameshKeys(prefix: string, service: Service): Array<[string, string]> {
  const entry = hameshEntry(service);
  if ('rejected' in entry) return [];
  const base = `${hameshServicePrefix(prefix, service)}`;
  const keys: Array<[string, string]> = [
    [`${base}address`, service.ip],
    [`${base}port`, String(service.port)],
    [`${base}mode`, entry.mode],
  ];
  for (const domain of entry.domains) keys.push([`${base}domains/${domain}`, domain]);
  return keys;
}

/** Root of the claims on hamesh ports, outside the mesh's own layout. */
export const CLAIMS_ROOT = '/_registrator/claims/hamesh';

/**
 * A port a tcp service binds on every node of the mesh (`external_port`, `internal_port`): one per
 * prefix, so only one service may hold it. Every service that wants it files a claim; the one whose
 * `<name>/<id>` sorts first (byte order) writes the port key, the others register without it.
 */
export interface PortClaim {
  /** Where every claim on this port lies: `/_registrator/claims/hamesh/<prefix>/<external_port|internal_port>/<n>/`. */
  range: string;
  /** This service's claim there: the range and its URI-encoded `<name>/<id>`. */
  key: string;
  /** The key the holder writes in its tree, and its value. */
  entry: [string, string];
  /** For messages, e.g. `SERVICE_EXTERNAL_PORT 5432`. */
  what: string;
}

/** The port claims of one service (tcp services with SERVICE_EXTERNAL_PORT or SERVICE_INTERNAL_PORT). Pure. */
export function hameshClaims(prefix: string, service: Service): PortClaim[] {
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

export function hameshServicePrefix(prefix: string, service: Service): string {
  return `/${prefix}/${service.name}/${service.id}/`;
}
