/**
 * Every registry URI scheme the product knows. Each has its row in schemes.ts (the compiler holds
 * the two together); the type lives here so that a backend can name a URI without importing the table.
 */
export type Scheme = 'hamesh' | 'etcd' | 'skydns2' | 'consul' | 'consul-tls' | 'consul-unix' | 'consulkv' | 'netfilter';

/** A parsed registry URI such as `hamesh:///services` or `etcd://10.0.0.1:2379/services`. */
export interface RegistryUri {
  raw: string;
  scheme: Scheme;
  /** `host:port`, or '' for "use the default connection". For netfilter: the chain. */
  authority: string;
  /** The path without leading/trailing slashes: prefix, domain, socket path or set name. */
  path: string;
}
