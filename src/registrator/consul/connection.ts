import { ConfigError } from '../../config-error';
import { loadTlsFiles, readPem } from '../../tls-files';
import type { RegistryUri } from '../uri';
import type { ConsulClientOptions, ConsulEndpoint, ConsulTls } from './client';

/** What a consul URI plus the `CONSUL_*` environment ask for. */
export interface ConsulConnection {
  client: ConsulClientOptions;
  /** KV mode (consulkv://, or consul:// with a path): the key prefix; undefined for the agent API. */
  kvPrefix?: string;
}

const DEFAULT_HTTP_PORT = 8500;
const DEFAULT_HTTPS_PORT = 8501;
const DEFAULT_HOST = '127.0.0.1';

/**
 * Settles where and how to talk to Consul (read once, at start):
 *
 * - `consul://[host:port]`: the agent API over HTTP; without a host `CONSUL_HTTP_ADDR`
 *   (`host:port`, `http://`, `https://` (TLS), `unix:///path`), else 127.0.0.1:8500.
 * - `consul-tls://[host:port]`: over HTTPS with `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`
 *   and `CONSUL_TLS_SERVER_NAME`; without a host `CONSUL_HTTP_ADDR`, else 127.0.0.1:8501.
 * - `consul-unix:///path.sock`: over a unix socket.
 * - `consulkv://[host:port]/<prefix>`, and `consul://`/`consul-tls://` with a path: KV mode.
 * - `CONSUL_HTTP_TOKEN` (else the contents of `CONSUL_HTTP_TOKEN_FILE`) is the ACL token.
 *
 * Problems (an unreadable certificate file, a malformed `CONSUL_HTTP_ADDR`) are ConfigErrors: exit 2.
 */
export function consulConnection(uri: RegistryUri, env: NodeJS.ProcessEnv): ConsulConnection {
  const token = tokenFrom(env);
  let endpoint: ConsulEndpoint;
  let kvPrefix: string | undefined;
  switch (uri.scheme) {
    case 'consul-unix':
      if (uri.authority !== '')
        throw new ConfigError(
          `registry URI "${uri.raw}" names a host; consul-unix takes a socket path: consul-unix:///var/run/consul.sock`,
        );
      endpoint = { kind: 'unix', socketPath: `/${uri.path}` };
      break;
    case 'consul-tls': {
      const { host, port } =
        uri.authority !== ''
          ? splitHostPort(uri.authority, DEFAULT_HTTPS_PORT, `registry URI "${uri.raw}"`)
          : tcpAddressFromEnv(env, DEFAULT_HTTPS_PORT, true);
      endpoint = { kind: 'tcp', host, port, tls: tlsFromEnv(env) };
      kvPrefix = uri.path || undefined;
      break;
    }
    case 'consul':
    case 'consulkv': {
      if (uri.authority !== '') {
        endpoint = { kind: 'tcp', ...splitHostPort(uri.authority, DEFAULT_HTTP_PORT, `registry URI "${uri.raw}"`) };
      } else {
        endpoint = endpointFromEnv(env);
      }
      kvPrefix = uri.path || undefined;
      break;
    }
    default:
      throw new ConfigError(`registry URI "${uri.raw}" is not a Consul URI`);
  }
  return { client: { endpoint, token }, kvPrefix };
}

/** `CONSUL_HTTP_ADDR` for consul:// and consulkv:// without a host: any of its forms, TLS for `https://`. */
function endpointFromEnv(env: NodeJS.ProcessEnv): ConsulEndpoint {
  const raw = (env.CONSUL_HTTP_ADDR ?? '').trim();
  if (raw === '') return { kind: 'tcp', host: DEFAULT_HOST, port: DEFAULT_HTTP_PORT };
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new ConfigError(`CONSUL_HTTP_ADDR "${raw}" is not unix:///<absolute socket path>`);
    return { kind: 'unix', socketPath };
  }
  const tls = /^https:\/\//i.test(raw);
  const { host, port } = tcpAddressFromEnv(env, tls ? DEFAULT_HTTPS_PORT : DEFAULT_HTTP_PORT, false);
  return tls ? { kind: 'tcp', host, port, tls: tlsFromEnv(env) } : { kind: 'tcp', host, port };
}

/** `CONSUL_HTTP_ADDR` as host and port, its scheme dropped; the default address when unset. */
function tcpAddressFromEnv(env: NodeJS.ProcessEnv, defaultPort: number, forTls: boolean): { host: string; port: number } {
  const raw = (env.CONSUL_HTTP_ADDR ?? '').trim();
  if (raw === '') return { host: DEFAULT_HOST, port: defaultPort };
  if (raw.startsWith('unix://')) throw new ConfigError(`CONSUL_HTTP_ADDR "${raw}" is a unix socket; consul-tls:// needs a host and port`);
  const match = /^(?:(https?):\/\/)?([^/]+)\/?$/i.exec(raw);
  if (!match) throw new ConfigError(`CONSUL_HTTP_ADDR "${raw}" is not host:port, http(s)://host:port or unix:///path`);
  if (forTls && match[1]?.toLowerCase() === 'http')
    throw new ConfigError(`CONSUL_HTTP_ADDR "${raw}" says http://, but the registry URI is consul-tls://`);
  return splitHostPort(match[2], defaultPort, `CONSUL_HTTP_ADDR "${raw}"`);
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; `source` names where it came from, for the error. */
function splitHostPort(authority: string, defaultPort: number, source: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i.exec(authority);
  const port = match?.[3] !== undefined ? Number(match[3]) : defaultPort;
  if (!match || port < 1 || port > 65535) throw new ConfigError(`${source} has a malformed Consul address "${authority}"`);
  return { host: match[1] ?? match[2], port };
}

function tokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  const token = (env.CONSUL_HTTP_TOKEN ?? '').trim();
  if (token !== '') return token;
  const file = (env.CONSUL_HTTP_TOKEN_FILE ?? '').trim();
  if (file === '') return undefined;
  const fromFile = readPem({ path: file, setting: 'CONSUL_HTTP_TOKEN_FILE' }).toString('utf8').trim();
  if (fromFile === '') throw new ConfigError(`CONSUL_HTTP_TOKEN_FILE "${file}" is empty`);
  return fromFile;
}

/** The TLS settings from `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`, `CONSUL_TLS_SERVER_NAME`. */
function tlsFromEnv(env: NodeJS.ProcessEnv): ConsulTls {
  const ca = (env.CONSUL_CACERT ?? '').trim();
  const cert = (env.CONSUL_CLIENT_CERT ?? '').trim();
  const key = (env.CONSUL_CLIENT_KEY ?? '').trim();
  const servername = (env.CONSUL_TLS_SERVER_NAME ?? '').trim();
  if ((cert === '') !== (key === '')) {
    throw new ConfigError(
      cert === '' ? 'CONSUL_CLIENT_KEY is set without CONSUL_CLIENT_CERT' : 'CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY',
    );
  }
  const file = (path: string, setting: string) => (path === '' ? undefined : { path, setting });
  const loaded = loadTlsFiles(
    { ca: file(ca, 'CONSUL_CACERT'), cert: file(cert, 'CONSUL_CLIENT_CERT'), key: file(key, 'CONSUL_CLIENT_KEY') },
    'Consul TLS files (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY)',
  );
  const tls: ConsulTls = {};
  if (loaded.ca) tls.ca = loaded.ca;
  if (loaded.cert) tls.cert = loaded.cert;
  if (loaded.key) tls.key = loaded.key;
  if (servername !== '') tls.servername = servername;
  return tls;
}
