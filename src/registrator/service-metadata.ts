/**
 * Service metadata (docs/registrator.md, "Services"): `SERVICE_<KEY>` and `SERVICE_<port>_<KEY>` taken from a container's
 * env and labels.
 *
 * Rules:
 * - the prefix `SERVICE_` is matched case-sensitively; the rest is lowercased to form the key;
 * - `SERVICE_<digits>_<key>` applies to the exposed port `<digits>` only (tcp and udp alike) and
 *   beats the generic `SERVICE_<key>` for that port;
 * - between an env var and a label giving the same key (same port scope), the label wins;
 * - odd entries (`SERVICE_=x`, `SERVICE_80_=x`, `SERVICE_80=x`, a port outside 1-65535, a signed
 *   port such as `SERVICE_-1_NAME`, an env entry `SERVICE_X` without `=`) are skipped and
 *   reported, never thrown;
 * - anything else after `SERVICE_` is a generic key (`SERVICE_abc_NAME` is the attribute `abc_name`).
 */

const PREFIX = 'SERVICE_';

/** Where a metadata entry came from; used only to explain skipped entries. */
type Source = 'env' | 'label';

/** All `SERVICE_*` metadata of one container, before a port is chosen. */
export interface ContainerMetadata {
  /** `SERVICE_<key>` values, key lowercased. */
  generic: Map<string, string>;
  /** `SERVICE_<port>_<key>` values by exposed port number, key lowercased. */
  perPort: Map<number, Map<string, string>>;
  /** Why some entries were skipped; the caller prefixes the container. */
  problems: string[];
}

/** The metadata that applies to one exposed port. */
export interface PortMetadata {
  /** Generic values overlaid with the port-specific ones. */
  values: Record<string, string>;
  /** Keys whose value came from a `SERVICE_<port>_<key>` entry. */
  fromPort: Set<string>;
}

/**
 * Reads every `SERVICE_*` entry from `env` (Docker's `KEY=value` list) and `labels`.
 * Env is applied first and labels second, so a label overrides an env var with the same key.
 * Labels are read in sorted order so that colliding spellings (`SERVICE_NAME`, `SERVICE_name`)
 * resolve the same way on every run.
 */
export function readContainerMetadata(env: readonly string[], labels: Readonly<Record<string, string>>): ContainerMetadata {
  const metadata: ContainerMetadata = { generic: new Map(), perPort: new Map(), problems: [] };
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq === -1) {
      // Only our own keys are worth a word; other bare env names are none of our business.
      if (entry.startsWith(PREFIX)) metadata.problems.push(`env entry ${quote(entry)} has no "=" and no value; ignored`);
      continue;
    }
    addEntry(metadata, entry.slice(0, eq), entry.slice(eq + 1), 'env');
  }
  for (const name of Object.keys(labels).sort()) addEntry(metadata, name, labels[name], 'label');
  return metadata;
}

function addEntry(metadata: ContainerMetadata, rawKey: string, value: string, source: Source): void {
  if (!rawKey.startsWith(PREFIX)) return;
  const key = rawKey.slice(PREFIX.length).toLowerCase();
  if (key === '') {
    metadata.problems.push(`${source} ${quote(rawKey)} has no key after SERVICE_; ignored`);
    return;
  }
  // A sign makes it a port number to gliderlabs (Go's Atoi) that matches no port; say so rather than keep it as an attribute.
  const portScoped = /^([+-]?\d+)(?:_(.*))?$/s.exec(key);
  if (!portScoped) {
    metadata.generic.set(key, value);
    return;
  }
  const [, digits, portKey] = portScoped;
  if (portKey === undefined || portKey === '') {
    metadata.problems.push(`${source} ${quote(rawKey)} has no key after the port number; ignored`);
    return;
  }
  if (!/^\d+$/.test(digits)) {
    metadata.problems.push(`${source} ${quote(rawKey)} names port ${digits}, which is not a port number; ignored`);
    return;
  }
  const port = Number(digits);
  if (!Number.isSafeInteger(port) || port < 1 || port > 65535) {
    metadata.problems.push(`${source} ${quote(rawKey)} names port ${digits}, outside 1-65535; ignored`);
    return;
  }
  let forPort = metadata.perPort.get(port);
  if (!forPort) metadata.perPort.set(port, (forPort = new Map()));
  forPort.set(portKey, value);
}

/** The metadata for exposed port `port`: generic values, with port-specific ones on top. */
export function metadataForPort(metadata: ContainerMetadata, port: number): PortMetadata {
  const values: Record<string, string> = Object.fromEntries(metadata.generic);
  const fromPort = new Set<string>();
  for (const [key, value] of metadata.perPort.get(port) ?? []) {
    values[key] = value;
    fromPort.add(key);
  }
  return { values, fromPort };
}

/**
 * Splits a tag list on commas not preceded by a backslash; `\,` becomes a literal comma.
 * Tags are trimmed and empty ones dropped; order is kept.
 */
export function splitTags(list: string): string[] {
  const tags: string[] = [];
  let current = '';
  for (const ch of list) {
    if (ch === ',' && current.endsWith('\\')) {
      current = current.slice(0, -1) + ',';
    } else if (ch === ',') {
      tags.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  tags.push(current);
  return tags.map((t) => t.trim()).filter((t) => t !== '');
}

/** A JSON-quoted form, so control characters and odd bytes in a key stay readable in a log line. */
export function quote(text: string): string {
  return JSON.stringify(text);
}
