// HaMesh's key layout and its validation (docs/registrator.md, "HaMesh"): what HAProxy reads of a
// service, from its SERVICE_* metadata. Pure.

/**
 * What HaMesh reads of a registered service: the registry's Service as far as the mesh goes, so
 * that this module stands on its own and the registry core never needs to know it.
 */
export interface MeshService {
  id: string;
  name: string;
  ip: string;
  port: number;
  /** SERVICE_* metadata, lowercased: `mode`, `domains`, `external_port`, `internal_port`. */
  attrs: Readonly<Record<string, string | undefined>>;
  origin: { containerName: string };
}

type HameshMode = 'http' | 'tcp';

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
export function hameshEntry(service: MeshService): HameshEntry | { rejected: string } {
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
export function hameshKeys(prefix: string, service: MeshService): Array<[string, string]> {
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

export function hameshServicePrefix(prefix: string, service: MeshService): string {
  return `/${prefix}/${service.name}/${service.id}/`;
}
