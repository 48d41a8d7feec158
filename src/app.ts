import type { Config } from './config/load';
import { ConfigError } from './config/errors';
import { Daemon, selfHealDelayMs } from './daemon';
import { createDockerClient } from './docker/client';
import { createEtcdClient, etcdForUri } from './etcd/client';
import type { Logger } from './log';
import { MirrorWriter } from './mirror/writer';
import './registrator/backends';
import type { Backend } from './registrator/backend';
import { resolveHostAddresses } from './registrator/host-address';
import { backendFactory, BackendContext } from './registrator/registry';
import { serviceWriterName, serviceWriterOptions, ServiceWriter } from './registrator/service-writer';
import type { RegistryUri } from './registrator/uri';
import { installSignalHandlers, SignalTarget } from './signals';
import type { Writer } from './writer';

/** Fails (as a configuration error, before anything is written) on URIs this build has no writer for. */
export function checkWritersAvailable(config: Config): void {
  for (const uri of config.uris) {
    if (!backendFactory(uri.scheme)) throw new ConfigError(`registry backend "${uri.scheme}://" is not available in this version (${uri.raw})`);
  }
  if (!config.mirror && config.uris.length === 0) throw new ConfigError('nothing to do: the mirror is off (--no-mirror) and no registry URI was given');
}

/** Builds the daemon from a validated configuration and runs it until a stop signal. */
export async function runDaemon(config: Config, log: Logger): Promise<void> {
  checkWritersAvailable(config);
  const docker = createDockerClient(config.docker);
  const etcd = createEtcdClient(config.etcd);
  const writers: Writer[] = [];
  // Backends are made before the daemon they ask for reconciliations.
  let daemon: Daemon | undefined;
  // Self-healing: a writer that sees this host's keys deleted behind its back asks for them back.
  const onVanished = config.selfHeal ? (reason: string) => daemon?.heal(reason) : undefined;
  if (config.mirror) writers.push(new MirrorWriter(etcd, { dir: config.etcd.dir, host: config.host, onVanished }, log.child({ component: 'writer.mirror' })));
  const backends: Backend[] = [];
  // prom-client is loaded only when the listener is on.
  const metrics = config.httpPort > 0 ? new (await import('./http/metrics')).Metrics(() => daemon?.status()) : undefined;
  if (config.uris.length > 0) {
    const hostAddresses = await resolveHostAddresses(config.ip, config.host, log);
    const context: BackendContext = {
      host: config.host,
      etcdFor: (uri: RegistryUri) => etcdForUri(config.etcd, etcd, uri.authority),
      ttl: config.ttl > 0 ? { ttlSeconds: config.ttl, refreshSeconds: config.ttlRefresh } : undefined,
      requestReconcile: (reason) => void daemon?.reconcile(reason).catch(() => undefined),
      onVanished,
      observer: metrics,
      log,
    };
    for (const [i, uri] of config.uris.entries()) {
      const backend = backendFactory(uri.scheme)!(uri, context);
      backends.push(backend);
      const name = serviceWriterName(config.uris, i);
      writers.push(
        new ServiceWriter(
          backend,
          serviceWriterOptions(config, hostAddresses),
          log.child({ component: name, registry: uri.raw }),
          name,
        ),
      );
    }
  }

  daemon = new Daemon(docker, writers, log.child({ component: 'daemon' }), {
    resyncSeconds: config.resync,
    healDelayMs: config.selfHeal ? selfHealDelayMs(config.host) : undefined,
    startupRetry: { attempts: config.retryAttempts, intervalMs: config.retryInterval },
    observer: metrics,
    onFatal: (err) => {
      // gliderlabs/registrator's -retry-attempts: give up and let the supervisor decide. Data is kept, as on SIGINT.
      log.error('giving up', { err });
      void target.stop(false).finally(() => process.exit(1));
    },
  });
  const http = metrics
    ? await (await import('./http/server')).startHttpListener({
        address: config.httpAddress,
        port: config.httpPort,
        metrics,
        status: () => daemon!.status(),
        log: log.child({ component: 'http' }),
      })
    : undefined;
  const target: SignalTarget = {
    reconcile: (reason) => daemon!.reconcile(reason),
    purgeAndRefill: () => daemon!.purgeAndRefill(),
    async stop(deleteHostData) {
      try {
        await daemon!.stop(deleteHostData);
      } finally {
        await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
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
