import type { Config } from './config/load';
import { Daemon, DaemonRequests, selfHealDelayMs } from './daemon';
import { createDockerClient } from './docker/client';
import { createEtcdClient } from './etcd/client';
import type { Logger } from './log';
import { installSignalHandlers, SignalTarget } from './signals';
import { checkWritersAvailable } from './writers-available';
import { createWriters, loadRegistryParts } from './writers';

/** Builds the daemon from a validated configuration and runs it until a stop signal. */
export async function runDaemon(config: Config, log: Logger): Promise<void> {
  checkWritersAvailable(config);
  const docker = createDockerClient(config.docker);
  const etcd = createEtcdClient(config.etcd);
  // prom-client is loaded only when the listener is on.
  const metrics = config.httpPort > 0 ? new (await import('./http/metrics')).Metrics() : undefined;
  const parts = await loadRegistryParts(config, config.uris, log);
  // The daemon makes its writers, handing them what they may ask of it: a reconciliation, a heal.
  const makeWriters = (requests: DaemonRequests) => createWriters(config, { etcd, ...parts, requests, observer: metrics, log }).writers;
  const daemon = new Daemon(docker, makeWriters, log.child({ component: 'daemon' }), {
    resyncSeconds: config.resync,
    healDelayMs: config.selfHeal ? selfHealDelayMs(config.host) : undefined,
    startupRetry: { attempts: config.retryAttempts, intervalMs: config.retryInterval },
    podmanHealthPollMs: config.podmanHealthPoll,
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
  await daemon.start();
}
