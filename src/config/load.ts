import type { DockerEndpoint } from '../docker/client';
import type { EtcdSettings } from '../etcd/client';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { etcdEndpoint } from '../etcd/endpoint';
import { parseRegistryUri } from '../registrator/schemes';
import { checkSkydnsTrees } from './registry-trees';
import type { RegistryUri } from '../registrator/uri';
import { describeKey, parseArgv, usage } from './argv';
import { ConfigError } from '../config-error';
import { createConfig, ENV_ALIASES, RawConfig } from './schema';
import { loadTlsFiles } from '../tls-files';
import { packageVersion } from '../version';

/** Fully resolved configuration: every default filled in, every value validated. */
export interface Config {
  uris: RegistryUri[];
  mirror: boolean;
  /** Write this host's data back when it vanishes from etcd (another host's SIGUSR2, a hand deletion). */
  selfHeal: boolean;
  /** Host name this daemon files its data under. */
  host: string;
  /** Whether `host` was configured (EC_REGISTRATOR_HOST, -host, the config file) rather than the OS hostname. */
  hostConfigured: boolean;
  docker: DockerEndpoint;
  etcd: EtcdSettings;
  ip: string;
  internal: boolean;
  /** Seconds between full reconciliations; 0 = never. */
  resync: number;
  ttl: number;
  ttlRefresh: number;
  deregister: 'always' | 'on-success';
  cleanup: boolean;
  explicit: boolean;
  tags: string;
  /** `-network`: the network whose container address is registered; `''`: none named. */
  network: string;
  /** `-name-from`: the default service name's source. */
  nameFrom: 'image' | 'compose';
  useIpFromLabel: string;
  retryAttempts: number;
  retryInterval: number;
  /** `-podman-health-poll`: on Podman, ms between inspects of the running containers with a health check; 0 = none. */
  podmanHealthPoll: number;
  /** `-http-port`: port of the /metrics and /healthz listener; 0 = no listener. */
  httpPort: number;
  /** `-http-address`: IP that listener binds. */
  httpAddress: string;
  log: { level: string; format: 'json' | 'pretty' };
}

export type LoadResult = { kind: 'run'; config: Config } | { kind: 'help'; text: string } | { kind: 'version'; text: string };

/** setTimeout/setInterval take at most 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where the project's defaults live (config/default.json), from src/config or dist/src/config. */
function defaultsFile(): string | undefined {
  for (const candidate of [join(__dirname, '../../config/default.json'), join(__dirname, '../../../config/default.json')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function withAliases(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [alias, canonical] of Object.entries(ENV_ALIASES)) {
    if (out[canonical] === undefined && out[alias] !== undefined) out[canonical] = out[alias];
  }
  return out;
}

function loadJsonFile(config: ReturnType<typeof createConfig>, file: string, what: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${what} "${file}" is missing or unreadable`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${what} "${file}" is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`${what} "${file}" must hold a JSON object`);
  config.load(data);
}

/** convict reports "key: message: value was ..."; name the flag and env var that set it. */
function explainValidation(err: Error): ConfigError {
  const first = err.message.split('\n')[0];
  const keyed = /^([\w.]+): (.*)$/.exec(first);
  if (keyed) return new ConfigError(`invalid ${describeKey(keyed[1])}: ${keyed[2]}`);
  const undeclared = /configuration param '([^']+)' not declared/.exec(first);
  if (undeclared) return new ConfigError(`unknown configuration key "${undeclared[1]}" in config file`);
  return new ConfigError(first);
}

function resolveDocker(value: string, env: NodeJS.ProcessEnv): DockerEndpoint {
  const chosen = value || env.DOCKER_HOST || '';
  if (chosen === '') {
    const found = ['/var/run/docker.sock', '/tmp/docker.sock'].find((p) => existsSync(p));
    return { kind: 'socket', socketPath: found ?? '/var/run/docker.sock' };
  }
  const source = value ? 'EC_REGISTRATOR_DOCKER_SOCKET' : 'DOCKER_HOST';
  if (chosen.startsWith('/')) return { kind: 'socket', socketPath: chosen };
  if (chosen.startsWith('unix://')) {
    const socketPath = chosen.slice('unix://'.length);
    if (!socketPath.startsWith('/'))
      throw new ConfigError(`Docker endpoint "${chosen}" (${source}) needs an absolute socket path: unix:///path`);
    return { kind: 'socket', socketPath };
  }
  // DOCKER_HOST is not checked by the schema's format; anything but tcp://host[:port] is refused here.
  let parsed: URL | undefined;
  try {
    parsed = /^(tcp|http|https):\/\//.test(chosen) ? new URL(chosen.replace(/^tcp:/, 'http:')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.hostname === '' || !['', '/'].includes(parsed.pathname)) {
    throw new ConfigError(`Docker endpoint "${chosen}" (${source}) must be a socket path, unix:///path or tcp://host:port`);
  }
  const url = parsed;
  // As the docker CLI: any non-empty DOCKER_TLS_VERIFY turns TLS on.
  const tls = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY ?? '') !== '' || url.port === '2376';
  const port = Number(url.port || (tls ? 2376 : 2375));
  if (port < 1) throw new ConfigError(`Docker endpoint "${chosen}" (${source}) has port 0; give a port from 1 to 65535`);
  const certPath = env.DOCKER_CERT_PATH || undefined;
  if (tls && certPath) {
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) {
      try {
        accessSync(join(certPath, file), constants.R_OK);
      } catch {
        throw new ConfigError(`Docker TLS file "${join(certPath, file)}" (DOCKER_CERT_PATH) is missing or unreadable`);
      }
    }
  }
  return { kind: 'tcp', host: url.hostname, port, tls, certPath };
}

function resolve(raw: RawConfig, env: NodeJS.ProcessEnv, isTty: boolean): Config {
  if (raw.ttlRefresh > 0 && raw.ttl === 0) throw new ConfigError(`-ttl-refresh ${raw.ttlRefresh} needs -ttl`);
  if (raw.ttl > 0 && raw.ttl <= raw.ttlRefresh) {
    throw new ConfigError(`-ttl ${raw.ttl} must be greater than -ttl-refresh ${raw.ttlRefresh}`);
  }
  if (raw.ttl > 0 && raw.ttlRefresh === 0) throw new ConfigError(`-ttl ${raw.ttl} needs -ttl-refresh`);
  // A longer Node.js timer fires after 1 ms, i.e. at once and over and over again.
  for (const [flag, value, unit] of [
    ['-resync', raw.resync, 1000],
    ['-ttl-refresh', raw.ttlRefresh, 1000],
    ['-retry-interval', raw.retryInterval, 1],
    ['-podman-health-poll', raw.podmanHealthPoll, 1],
  ] as const) {
    if (value * unit > MAX_TIMER_MS)
      throw new ConfigError(
        `${flag} ${value} is longer than ${Math.floor(MAX_TIMER_MS / unit)} ` +
          `${unit === 1 ? 'ms' : 'seconds'} (24.8 days), the longest timer Node.js can set`,
      );
  }
  if ((raw.etcd.cert === '') !== (raw.etcd.key === '')) {
    throw new ConfigError('etcd TLS client auth needs both EC_REGISTRATOR_ETCD_CERT and EC_REGISTRATOR_ETCD_KEY');
  }
  if ((raw.etcd.user === '') !== (raw.etcd.password === '')) {
    throw new ConfigError('etcd auth needs both EC_REGISTRATOR_ETCD_USER and EC_REGISTRATOR_ETCD_PASSWORD');
  }
  if (raw.etcd.ca !== '' || raw.etcd.cert !== '') {
    const file = (path: string, setting: string) => (path === '' ? undefined : { path, setting });
    loadTlsFiles(
      {
        ca: file(raw.etcd.ca, 'EC_REGISTRATOR_ETCD_CA (-etcd-ca)'),
        cert: file(raw.etcd.cert, 'EC_REGISTRATOR_ETCD_CERT (-etcd-cert)'),
        key: file(raw.etcd.key, 'EC_REGISTRATOR_ETCD_KEY (-etcd-key)'),
      },
      'etcd TLS files (-etcd-ca, -etcd-cert, -etcd-key)',
    );
  }
  // Credentials in an endpoint would end up in gRPC's error texts; they have their own settings.
  if (raw.etcd.hosts.some((h) => /^([a-z]+:\/\/)?[^/]*@/i.test(h))) {
    throw new ConfigError(
      `${describeKey('etcd.hosts')}: an endpoint carries user:password@; use EC_REGISTRATOR_ETCD_USER and EC_REGISTRATOR_ETCD_PASSWORD`,
    );
  }
  const docker = resolveDocker(raw.dockerSocket, env);
  if (docker.kind === 'socket' && existsSync(docker.socketPath) && !statSync(docker.socketPath).isSocket()) {
    throw new ConfigError(`Docker socket "${docker.socketPath}" is not a socket`);
  }
  const tlsWanted = raw.etcd.ca !== '' || raw.etcd.cert !== '';
  const etcdHosts = raw.etcd.hosts.map((h) => etcdEndpoint(h, tlsWanted ? 'https' : 'http'));
  if (new Set(etcdHosts.map((h) => h.split('://')[0])).size > 1) {
    throw new ConfigError(`etcd endpoints mix http:// and https:// (${raw.etcd.hosts.join(',')}): use one scheme for all`);
  }
  const uris = raw.uris.map(parseRegistryUri);
  checkSkydnsTrees(uris);
  return {
    uris,
    mirror: raw.mirror,
    selfHeal: raw.selfHeal,
    host: raw.host || hostname(),
    hostConfigured: raw.host !== '',
    docker,
    etcd: {
      ...raw.etcd,
      hosts: etcdHosts,
    },
    ip: raw.ip,
    internal: raw.internal,
    resync: raw.resync,
    ttl: raw.ttl,
    ttlRefresh: raw.ttlRefresh,
    deregister: raw.deregister as Config['deregister'],
    cleanup: raw.cleanup,
    explicit: raw.explicit,
    tags: raw.tags,
    network: raw.network,
    nameFrom: raw.nameFrom as Config['nameFrom'],
    useIpFromLabel: raw.useIpFromLabel,
    retryAttempts: raw.retryAttempts,
    retryInterval: raw.retryInterval,
    podmanHealthPoll: raw.podmanHealthPoll,
    httpPort: raw.httpPort,
    httpAddress: raw.httpAddress,
    log: { level: raw.log.level, format: (raw.log.format || (isTty ? 'pretty' : 'json')) as 'json' | 'pretty' },
  };
}

/**
 * Builds the configuration: defaults < config/default.json < --config file < env < argv.
 * Throws ConfigError (one line) on anything invalid; nothing has been written at that point.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, isTty = false): LoadResult {
  const parsed = parseArgv(argv);
  if (parsed.help) return { kind: 'help', text: usage() };
  if (parsed.version) return { kind: 'version', text: packageVersion() };

  const effectiveEnv = withAliases(env);
  let config: ReturnType<typeof createConfig>;
  try {
    config = createConfig({ env: effectiveEnv, args: [] });
  } catch (err) {
    throw explainValidation(err as Error);
  }
  const defaults = defaultsFile();
  try {
    if (defaults) loadJsonFile(config, defaults, 'defaults file');
    const file = parsed.configFile ?? effectiveEnv.EC_REGISTRATOR_CONFIG;
    if (file) loadJsonFile(config, file, 'config file');
    // The command line beats env and files; each value is coerced by its own format, never by yargs.
    for (const [key, value] of parsed.settings) config.set(key, value);
    if (parsed.uris.length > 0) config.set('uris', parsed.uris);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw explainValidation(err as Error);
  }
  return { kind: 'run', config: resolve(config.getProperties(), effectiveEnv, isTty) };
}
