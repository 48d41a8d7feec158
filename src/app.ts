import { hostname } from 'node:os';
import { ConfigError } from './config-error';
import type { Config } from './config/load';
import { Daemon, DaemonRequests, selfHealDelayMs } from './daemon';
import { healDelayMs } from './daemon/heal-window';
import { createDockerClient } from './docker/client';
import { dockerEngine } from './docker/engine';
import { containerOfHostname, EngineIdentity, looksLikeContainerId, readEngineIdentity } from './docker/engine-info';
import { createEtcdClient } from './etcd/client';
import { historyFor } from './etcd/history';
import { ChosenHostName, defaultHostName } from './fleet/host-name';
import { countClaims, HostClaim } from './fleet/host-claim';
import { hostNameProblem } from './key-segment';
import type { Logger } from './log';
import { packageVersion } from './version';
import { installSignalHandlers, SignalTarget } from './signals';
import { checkWritersAvailable } from './writers-available';
import { createWriters, HostWriters, loadRegistryParts } from './writers';

/** Builds the daemon from a validated configuration and runs it until a stop signal. */
export async function runDaemon(configured: Config, log: Logger): Promise<void> {
  checkWritersAvailable(configured);
  const docker = createDockerClient(configured.docker);
  // Asked once; until the engine answers nothing is claimed, so nothing is written (the watcher reconnects meanwhile).
  const engineAnswer = readEngineIdentity(docker, log.child({ component: 'docker.info' }));
  const chosen = await chooseHostName(configured, docker, engineAnswer);
  const config: Config = { ...configured, host: chosen.host };
  const etcd = createEtcdClient(config.etcd);
  const history = historyFor(etcd);
  // The claim lives in the daemon's etcd, where its writers are; with none there, there is nothing to claim.
  // The claim and the heal delay read the daemon, made below, only once it runs.
  const hostClaim = usesDaemonEtcd(config)
    ? new HostClaim(etcd, {
        record: {
          host: config.host,
          hostname: hostname(),
          pid: process.pid,
          version: packageVersion(),
          since: new Date().toISOString(),
        },
        onHeld: () => void daemon.reconcile('host name claimed').catch(() => undefined),
        log: log.child({ component: 'host-claim' }),
      })
    : undefined;
  // The fleet's size for the self-healing window: the largest count of claims seen (an emptied etcd has none for a while).
  let fleetHosts = 1;
  const healDelay = async () => {
    if (hostClaim) fleetHosts = Math.max(fleetHosts, await countClaims(etcd).catch(() => fleetHosts));
    const { writers } = daemon.status();
    const containers = Math.max(0, ...writers.map((w) => w.containersHeld));
    return healDelayMs(config.host, { hosts: fleetHosts, keysPerHost: containers * KEYS_PER_CONTAINER * Math.max(1, writers.length) });
  };
  // prom-client is loaded only when the listener is on.
  const metrics = config.httpPort > 0 ? new (await import('./http/metrics')).Metrics() : undefined;
  const parts = await loadRegistryParts(config, config.uris, log);
  // The daemon makes its writers, handing them what they may ask of it: a reconciliation, a heal.
  let hostWriters: HostWriters | undefined; // the latest made, for the status page
  const makeWriters = (requests: DaemonRequests) =>
    (hostWriters = createWriters(config, { etcd, ...parts, requests, observer: metrics, log })).writers;
  // `-podman-health-poll`: on Podman, the running containers with a health check are inspected that often (docs/podman.md).
  const engine = dockerEngine(docker, log.child({ component: 'docker.watcher' }), { healthPollMs: config.podmanHealthPoll });
  const daemon: Daemon = new Daemon(engine, makeWriters, log.child({ component: 'daemon' }), {
    resyncSeconds: config.resync,
    healDelayMs: config.selfHeal ? healDelay : undefined,
    repairDelayMs: healDelay,
    hostClaim,
    history,
    startupRetry: { attempts: config.retryAttempts, intervalMs: config.retryInterval },
    observer: metrics,
    onFatal: (err) => {
      // gliderlabs/registrator's -retry-attempts: give up and let the supervisor decide. Data is kept, as on SIGINT.
      log.error('giving up', { err });
      void target.stop(false).finally(() => process.exit(1));
    },
  });
  metrics?.readStatusFrom(() => daemon.status());
  const http = metrics
    ? await (
        await import('./http/server')
      ).startHttpListener({
        address: config.httpAddress,
        port: config.httpPort,
        metrics,
        status: () => daemon.status(),
        page: () =>
          hostWriters && {
            host: config.host,
            status: () => daemon.status(),
            mirror: hostWriters.mirror,
            registries: hostWriters.registries.map((r) => ({ uri: r.uri.raw, writer: r.writer })),
          },
        log: log.child({ component: 'http' }),
      })
    : undefined;
  const target: SignalTarget = {
    reconcile: (reason) => daemon.reconcile(reason),
    purgeAndRefill: () => daemon.purgeAndRefill(),
    async stop(deleteHostData) {
      try {
        // The daemon closes every writer, and with it the backend's own connections.
        await daemon.stop(deleteHostData);
      } finally {
        etcd.close();
        await http?.close();
      }
    },
  };
  installSignalHandlers(target, log.child({ component: 'signals' }));
  log.info('starting', {
    host: config.host,
    hostFrom: chosen.source,
    docker: config.docker.kind === 'socket' ? config.docker.socketPath : `${config.docker.host}:${config.docker.port}`,
    etcd: config.etcd.hosts,
    etcdAuth: config.etcd.user ? 'user' : config.etcd.cert ? 'client-cert' : 'none',
    mirror: config.mirror ? `/${config.etcd.dir}/` : 'off',
    registries: config.uris.map((u) => u.raw),
    resync: config.resync,
    ttl: config.ttl > 0 ? { seconds: config.ttl, refresh: config.ttlRefresh } : 'off',
    cleanup: config.cleanup,
    selfHeal: config.selfHeal ? { delayMs: selfHealDelayMs(config.host) } : 'off',
    http: http?.url ?? 'off',
  });
  void engineAnswer.then((engine) => {
    log.info('engine', { engine });
    return hostClaim?.start(engine);
  });
  await daemon.start();
}

/** Keys one container is taken to have in one writer, for the self-healing window (the mirror's entry is about 17). */
const KEYS_PER_CONTAINER = 16;

/** Whether a writer lives in the daemon's own etcd (the mirror, an etcd-based URI without a host of its own). */
function usesDaemonEtcd(config: Config): boolean {
  return config.mirror || config.uris.some((u) => ['hamesh', 'etcd', 'skydns2'].includes(u.scheme) && u.authority === '');
}

/**
 * The host name: as configured, else the OS hostname, else (in a container started without `-h`,
 * whose hostname is its own ID) the engine's name. Checked as one key segment (docs/configuration.md).
 */
async function chooseHostName(
  config: Config,
  docker: ReturnType<typeof createDockerClient>,
  engine: Promise<EngineIdentity>,
): Promise<ChosenHostName> {
  if (config.hostConfigured) return { host: config.host, source: 'EC_REGISTRATOR_HOST' };
  // Only a hostname that can be a container's ID needs the engine's answer (the daemon then waits for it).
  const chosen = looksLikeContainerId(config.host)
    ? defaultHostName(config.host, await containerOfHostname(docker, config.host), (await engine).name)
    : defaultHostName(config.host, undefined, '');
  const problem = hostNameProblem(chosen.host);
  if (problem !== undefined) {
    const source = chosen.source === 'engine-name' ? "the engine's name" : 'the OS hostname';
    throw new ConfigError(`${source} ${JSON.stringify(chosen.host)} cannot be a host name (${problem}): set EC_REGISTRATOR_HOST`);
  }
  return chosen;
}
