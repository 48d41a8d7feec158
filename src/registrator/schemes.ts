import { ConfigError } from '../config-error';
import type { BackendFactory } from './backend';
import type { RegistryUri, Scheme } from './uri';

/** What the product knows of one registry URI scheme. */
export interface SchemeSpec {
  /** What the URI's path must name, for the error when it is empty; absent, the path may be empty. */
  needsPath?: string;
  /** `ls`, `diff` and `check` read it: its state is kept in etcd, where every read is a plain range read. */
  opsCovered: boolean;
  /**
   * Loads the backend's module on first use, so that reading the configuration loads no registry
   * client; absent, the scheme is known but no backend for it is built into this version.
   */
  load?(): Promise<BackendFactory>;
}

/**
 * Every registry URI scheme (docs/registrator.md), in the order error messages list them. Adding
 * a registry: one file in backends/ that exports its factory, its row here, and its name in the
 * `Scheme` type (uri.ts).
 */
const SCHEMES = {
  hamesh: {
    needsPath: 'a key prefix (hamesh:///services)',
    opsCovered: true,
    load: () => import('./backends/hamesh').then((m) => m.createHameshBackend),
  },
  etcd: {
    needsPath: 'a key prefix (etcd:///services)',
    opsCovered: true,
    load: () => import('./backends/etcd').then((m) => m.createEtcdBackend),
  },
  skydns2: {
    needsPath: 'a domain (skydns2:///skydns.local)',
    opsCovered: true,
    load: () => import('./backends/skydns2').then((m) => m.createSkydns2Backend),
  },
  consul: {
    opsCovered: false,
    load: () => import('./backends/consul').then((m) => m.createConsulBackend),
  },
  'consul-tls': {
    opsCovered: false,
    load: () => import('./backends/consul').then((m) => m.createConsulBackend),
  },
  'consul-unix': {
    needsPath: 'a socket path (consul-unix:///var/run/consul.sock)',
    opsCovered: false,
    load: () => import('./backends/consul').then((m) => m.createConsulBackend),
  },
  consulkv: {
    needsPath: 'a key prefix (consulkv:///services)',
    opsCovered: false,
    load: () => import('./backends/consul').then((m) => m.createConsulBackend),
  },
  netfilter: {
    opsCovered: false,
    load: () => import('./backends/netfilter').then((m) => m.createNetfilterBackend),
  },
} satisfies Record<Scheme, SchemeSpec>;

/** Every scheme the product knows, in the table's order. */
export const KNOWN_SCHEMES = Object.keys(SCHEMES) as readonly Scheme[];

export function schemeSpec(scheme: Scheme): SchemeSpec {
  return SCHEMES[scheme];
}

/** Whether this version has a backend for the scheme. */
export function isBackendAvailable(scheme: Scheme): boolean {
  return schemeSpec(scheme).load !== undefined;
}

/** The backend factory of each scheme among `schemes`, their modules loaded; a scheme without a backend is left out. */
export async function loadBackendFactories(schemes: Iterable<Scheme>): Promise<ReadonlyMap<Scheme, BackendFactory>> {
  const unique = [...new Set(schemes)];
  const loaded = await Promise.all(unique.map(async (scheme) => [scheme, await schemeSpec(scheme).load?.()] as const));
  return new Map(loaded.flatMap(([scheme, factory]) => (factory ? [[scheme, factory] as const] : [])));
}

/** Parses a registry URI given on the command line; a ConfigError names what is wrong with it. */
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
  if (authority.includes('@'))
    throw new ConfigError(`registry URI "${raw}" carries user:password@; credentials are set by environment (see docs/security.md)`);
  if (authority !== '' && scheme !== 'netfilter' && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(authority)) {
    throw new ConfigError(`registry URI "${raw}" has a malformed host "${authority}"`);
  }
  return { raw, scheme: scheme as Scheme, authority, path };
}
