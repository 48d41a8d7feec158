/** etcd's client port: what an endpoint given without a port means (docs/configuration.md). */
const ETCD_DEFAULT_PORT = 2379;

/**
 * `host`, `host:port`, `[v6]` or `[v6]:port`, with etcd's port added when none is given. Without it,
 * etcd3 hands a bare host to gRPC, which dials port 443 and retries for ever.
 */
export function withEtcdPort(authority: string): string {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(authority);
  // An unbracketed IPv6 address has no place for a port; the endpoint's validation refuses it.
  if (!match) return authority;
  // `host:` (an empty port) is no port either, as in URLs.
  return match[2] ? authority : `${match[1]}:${ETCD_DEFAULT_PORT}`;
}

/** An endpoint as etcd3 takes it, `scheme://host:port`, from `[scheme://]host[:port][/]`. */
export function etcdEndpoint(endpoint: string, defaultScheme: 'http' | 'https'): string {
  const schemeEnd = endpoint.indexOf('://');
  const scheme = schemeEnd === -1 ? defaultScheme : endpoint.slice(0, schemeEnd);
  const authority = (schemeEnd === -1 ? endpoint : endpoint.slice(schemeEnd + 3)).replace(/\/$/, '');
  return `${scheme}://${withEtcdPort(authority)}`;
}
