// The options as plain data, without convict: parsing the command line and `--help` read this
// alone, so they load no package (src/main.ts).

/**
 * How often, on Podman, each running container with a health check is inspected (milliseconds), unless
 * `-podman-health-poll` says otherwise: Podman's `health_status` event comes before the check's result
 * is stored (docs/podman.md, "Health checks").
 */
const PODMAN_HEALTH_POLL_MS = 2_000;

/**
 * The whole configuration. Every option has an `EC_REGISTRATOR_*` env var and a
 * command-line flag (`arg`, usable as `-name` or `--name`); see docs/configuration.md.
 */
export const schema = {
  uris: {
    doc: 'Registry URIs (hamesh://, etcd://, ...); positional arguments, or comma separated in the env var',
    format: 'string-list',
    default: [] as string[],
    env: 'EC_REGISTRATOR_URIS',
  },
  mirror: {
    doc: 'Write the container-state mirror under /<etcd dir>/ (--no-mirror turns it off)',
    format: 'switch',
    default: true,
    env: 'EC_REGISTRATOR_MIRROR',
    arg: 'mirror',
  },
  selfHeal: {
    doc: "Write this host's data back when it is deleted from etcd behind its back (--no-self-heal turns it off)",
    format: 'switch',
    default: true,
    env: 'EC_REGISTRATOR_SELF_HEAL',
    arg: 'self-heal',
  },
  host: {
    doc: 'Host name this daemon files its data under (default: the OS hostname)',
    format: 'host-name',
    default: '',
    env: 'EC_REGISTRATOR_HOST',
    arg: 'host',
  },
  dockerSocket: {
    doc: 'Docker engine: socket path, unix:///path or tcp://host:port (default: DOCKER_HOST, /var/run/docker.sock, /tmp/docker.sock)',
    format: 'docker-endpoint',
    default: '',
    env: 'EC_REGISTRATOR_DOCKER_SOCKET',
    arg: 'docker-socket',
  },
  etcd: {
    hosts: {
      doc: 'Comma-separated etcd endpoints, [http(s)://]host[:port] (port 2379 when not given); https:// selects TLS',
      format: 'etcd-hosts',
      default: ['localhost:2379'],
      env: 'EC_REGISTRATOR_ETCD_HOSTS',
      arg: 'etcd-hosts',
    },
    ca: { doc: 'PEM CA file for etcd TLS', format: 'optional-file', default: '', env: 'EC_REGISTRATOR_ETCD_CA', arg: 'etcd-ca' },
    cert: {
      doc: 'PEM client certificate for etcd TLS',
      format: 'optional-file',
      default: '',
      env: 'EC_REGISTRATOR_ETCD_CERT',
      arg: 'etcd-cert',
    },
    key: { doc: 'PEM client key for etcd TLS', format: 'optional-file', default: '', env: 'EC_REGISTRATOR_ETCD_KEY', arg: 'etcd-key' },
    user: { doc: 'etcd user name', format: String, default: '', env: 'EC_REGISTRATOR_ETCD_USER', arg: 'etcd-user' },
    password: {
      doc: 'etcd password',
      format: String,
      default: '',
      sensitive: true,
      env: 'EC_REGISTRATOR_ETCD_PASSWORD',
      arg: 'etcd-password',
    },
    dir: {
      doc: 'Mirror prefix: keys live under /<dir>/',
      format: 'key-prefix',
      default: 'registry',
      env: 'EC_REGISTRATOR_ETCD_DIR',
      arg: 'etcd-dir',
    },
  },
  ip: { doc: 'IP for ports mapped to the host (0.0.0.0 / ::)', format: 'optional-ip', default: '', env: 'EC_REGISTRATOR_IP', arg: 'ip' },
  internal: {
    doc: 'Use exposed ports and container IPs instead of published ports',
    format: 'switch',
    default: false,
    env: 'EC_REGISTRATOR_INTERNAL',
    arg: 'internal',
  },
  resync: { doc: 'Reconcile every N seconds (0: never)', format: 'whole-number', default: 0, env: 'EC_REGISTRATOR_RESYNC', arg: 'resync' },
  ttl: { doc: 'TTL in seconds for registrations (0: none)', format: 'whole-number', default: 0, env: 'EC_REGISTRATOR_TTL', arg: 'ttl' },
  ttlRefresh: {
    doc: 'Refresh TTL-held registrations every N seconds',
    format: 'whole-number',
    default: 0,
    env: 'EC_REGISTRATOR_TTL_REFRESH',
    arg: 'ttl-refresh',
  },
  deregister: {
    doc: 'Deregister exited containers "always" or only "on-success"',
    format: ['always', 'on-success'],
    default: 'always',
    env: 'EC_REGISTRATOR_DEREGISTER',
    arg: 'deregister',
  },
  cleanup: {
    doc: 'Remove dangling services of this host at start',
    format: 'switch',
    default: false,
    env: 'EC_REGISTRATOR_CLEANUP',
    arg: 'cleanup',
  },
  explicit: {
    doc: 'Only register containers/ports that have SERVICE_NAME set',
    format: 'switch',
    default: false,
    env: 'EC_REGISTRATOR_EXPLICIT',
    arg: 'explicit',
  },
  tags: { doc: 'Tags appended to every service (comma separated)', format: String, default: '', env: 'EC_REGISTRATOR_TAGS', arg: 'tags' },
  network: {
    doc: 'Register the container address on this network (with -internal, or for containers on user-defined networks only) unless SERVICE_NETWORK names another',
    format: 'network-name',
    default: '',
    env: 'EC_REGISTRATOR_NETWORK',
    arg: 'network',
  },
  nameFrom: {
    doc: 'Name of a service without SERVICE_NAME: "image" (its basename) or "compose" (the Compose service, its project a tag)',
    format: ['image', 'compose'],
    default: 'image',
    env: 'EC_REGISTRATOR_NAME_FROM',
    arg: 'name-from',
  },
  useIpFromLabel: {
    doc: 'Take the service IP from this container label',
    format: String,
    default: '',
    env: 'EC_REGISTRATOR_USE_IP_FROM_LABEL',
    arg: 'use-ip-from-label',
  },
  retryAttempts: {
    doc: 'Retries for a backend that is down at start (-1: forever)',
    format: 'retry-count',
    default: -1,
    env: 'EC_REGISTRATOR_RETRY_ATTEMPTS',
    arg: 'retry-attempts',
  },
  retryInterval: {
    doc: 'Milliseconds between those retries',
    format: 'whole-number',
    default: 2000,
    env: 'EC_REGISTRATOR_RETRY_INTERVAL',
    arg: 'retry-interval',
  },
  podmanHealthPoll: {
    doc: 'On Podman: inspect each running container with a health check every N milliseconds (0: never)',
    format: 'whole-number',
    default: PODMAN_HEALTH_POLL_MS,
    env: 'EC_REGISTRATOR_PODMAN_HEALTH_POLL',
    arg: 'podman-health-poll',
  },
  httpPort: {
    doc: 'Serve /metrics and /healthz on this TCP port (0: no listener)',
    format: 'port-number',
    default: 0,
    env: 'EC_REGISTRATOR_HTTP_PORT',
    arg: 'http-port',
  },
  httpAddress: {
    doc: 'IP address the /metrics and /healthz listener binds',
    format: 'ip-address',
    default: '127.0.0.1',
    env: 'EC_REGISTRATOR_HTTP_ADDRESS',
    arg: 'http-address',
  },
  log: {
    level: {
      doc: 'Log level',
      format: ['error', 'warn', 'info', 'debug'],
      default: 'info',
      env: 'EC_REGISTRATOR_LOG_LEVEL',
      arg: 'log-level',
    },
    format: {
      doc: 'Log format: json or pretty (default: pretty on a TTY, else json)',
      format: ['', 'json', 'pretty'],
      default: '',
      env: 'EC_REGISTRATOR_LOG_FORMAT',
      arg: 'log-format',
    },
  },
};
