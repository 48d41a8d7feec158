import type { Service } from '../service';

// The skydns2 key layout and record (pure), as CoreDNS's etcd plugin reads them (its msg.Service):
// kept apart from the backend so that configuration checks can use it without loading an etcd client.

/** `skydns.local` -> `/skydns/local/skydns`, SkyDNS's reversed-label layout. */
export function skydnsPath(domain: string): string {
  return `/skydns/${domain.split('.').filter(Boolean).reverse().join('/')}`;
}

/** The prefix every key of the domain lies under, and where CoreDNS reads every value as JSON. */
export function skydnsTree(domain: string): string {
  return `${skydnsPath(domain)}/`;
}

/** `SERVICE_PRIORITY` and `SERVICE_WEIGHT`: CoreDNS puts them into 16-bit SRV fields. */
const NUMBER_FIELDS = [
  ['priority', 'SERVICE_PRIORITY'],
  ['weight', 'SERVICE_WEIGHT'],
] as const;

const MAX_SRV_NUMBER = 65535;

/** The record's fields, in CoreDNS's order, and what was left out of it and why. */
export interface SkydnsRecord {
  fields: { host: string; port: number; priority?: number; weight?: number; text?: string; ttl?: number };
  /** Metadata left out (a bad number), each naming its key and value. */
  notes: string[];
}

/**
 * The record of one service: `host` and `port`, then `priority` and `weight` (SERVICE_PRIORITY,
 * SERVICE_WEIGHT: whole numbers 0-65535; anything else is left out with a note, since CoreDNS fails
 * the whole lookup on a value its JSON decoder refuses and wraps a larger one), `text` (SERVICE_TEXT,
 * the TXT record's text) and `ttl` (`-ttl`). An empty value is as an absent one. Fields absent stay
 * out, so a record without them is written as before (`{"host","port"}`).
 */
export function skydnsFields(service: Service): SkydnsRecord {
  const fields: SkydnsRecord['fields'] = { host: service.ip, port: service.port };
  const notes: string[] = [];
  for (const [attr, key] of NUMBER_FIELDS) {
    const raw = service.attrs[attr];
    if (raw === undefined || raw.trim() === '') continue;
    const value = raw.trim();
    if (/^\d{1,5}$/.test(value) && Number(value) <= MAX_SRV_NUMBER) fields[attr] = Number(value);
    else notes.push(`${key} ${JSON.stringify(raw)} is not a whole number from 0 to ${MAX_SRV_NUMBER} (left out of the skydns2 record)`);
  }
  if ((service.attrs.text ?? '') !== '') fields.text = service.attrs.text;
  if (service.ttl) fields.ttl = service.ttl;
  return { fields, notes };
}

export function skydnsRecord(service: Service): string {
  return JSON.stringify(skydnsFields(service).fields);
}

/**
 * Why CoreDNS cannot serve a service under `domain` by the names its key gives, with the fix; undefined
 * when it can. CoreDNS serves `/skydns/<reversed domain>/<name>/<id>` as `<name>.<domain>` (SRV), with
 * `<id>.<name>.<domain>` as each SRV target. A `.` in the name or ID splits it into labels that CoreDNS
 * maps to another key (the target resolves to nothing; a name is served nowhere); a `:` makes a label
 * that is no host name (letters, digits, hyphens), which resolvers and SRV clients refuse. The default
 * ID, `<host>:<container>:<port>`, always holds `:`.
 */
export function skydnsNameProblem(service: Service, domain: string): string | undefined {
  const problems: string[] = [];
  const fixes: string[] = [];
  const zone = domain.split('.').filter(Boolean).join('.');
  const served = `${service.name}.${zone}`;
  const target = `${service.id}.${served}`;
  const label = (text: string) => text.replace(/[^a-z0-9-]+/gi, '-').replace(/^-+|-+$/g, '') || 'svc';
  for (const [what, value, key, example, name] of [
    ['name', service.name, 'SERVICE_NAME', label(service.name), served],
    ['ID', service.id, 'SERVICE_ID', `${label(service.name)}-${service.origin.exposedPort}`, target],
  ] as const) {
    const bad = [':', '.'].filter((c) => value.includes(c));
    if (bad.length === 0) continue;
    const where = what === 'name' ? `the name ${name}` : `the SRV target ${name}`;
    const why = bad.includes('.')
      ? `CoreDNS looks ${where} up at ${skydnsPath(name)}, not at this key, so it resolves to nothing`
      : `${where} is no host name (letters, digits, hyphens), which resolvers and SRV clients refuse`;
    problems.push(`service ${what} ${JSON.stringify(value)} holds ${bad.map((c) => JSON.stringify(c)).join(' and ')}: ${why}`);
    fixes.push(`${key} (e.g. ${key}=${example})`);
  }
  if (problems.length === 0) return undefined;
  return `${problems.join('; ')}; set ${fixes.join(' and ')} for CoreDNS to serve it`;
}
