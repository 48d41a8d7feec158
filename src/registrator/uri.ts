import { ConfigError } from '../config/errors';
import { KNOWN_SCHEMES, type Scheme, schemeSpec } from './schemes';

/** A parsed registry URI such as `hamesh:///services` or `etcd://10.0.0.1:2379/services`. */
export interface RegistryUri {
  raw: string;
  scheme: Scheme;
  /** `host:port`, or '' for "use the default connection". For netfilter: the chain. */
  authority: string;
  /** The path without leading/trailing slashes: prefix, domain, socket path or set name. */
  path: string;
}

export function parseRegistryUri(raw: string): RegistryUri {
  const match = /^([a-z0-9-]+):\/\/([^/]*)(\/.*)?$/i.exec(raw);
  if (!match) throw new ConfigError(`malformed registry URI "${raw}" (expected scheme://[host:port]/path)`);
  const scheme = match[1].toLowerCase();
  if (!(KNOWN_SCHEMES as readonly string[]).includes(scheme)) {
    throw new ConfigError(`unknown registry scheme "${scheme}" in "${raw}" (known: ${KNOWN_SCHEMES.join(', ')})`);
  }
  const authority = match[2];
  const path = (match[3] ?? '').replace(/^\/+|\/+$/g, '');
  const needs = schemeSpec(scheme as Scheme).needsPath;
  if (needs && path === '') throw new ConfigError(`registry URI "${raw}" needs ${needs}`);
  // Credentials have their own settings (CONSUL_HTTP_TOKEN, EC_REGISTRATOR_ETCD_USER/_PASSWORD); not echoed here.
  if (authority.includes('@')) throw new ConfigError(`registry URI "${raw}" carries user:password@; credentials are set by environment (see docs/security.md)`);
  if (authority !== '' && scheme !== 'netfilter' && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(authority)) {
    throw new ConfigError(`registry URI "${raw}" has a malformed host "${authority}"`);
  }
  return { raw, scheme: scheme as Scheme, authority, path };
}
