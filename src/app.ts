import type { Config } from './config/load';
import { ConfigError } from './config/errors';
import { Daemon } from './daemon';
import { createDockerClient } from './docker/client';
import { createEtcdClient } from './etcd/client';
import type { Logger } from './log';
import { MirrorWriter } from './mirror/writer';
import { installSignalHandlers, SignalTarget } from './signals';
import type { Writer } from './writer';

/** Fails (as a configuration error, before anything is written) on URIs this build has no writer for. */
export function checkWritersAvailable(config: Config): void {
  for (const uri of config.uris) {
    throw new ConfigError(`registry backend "${uri.scheme}://" is not available in this version (${uri.raw})`);
  }
  if (!config.mirror && config.uris.length === 0) throw new ConfigError('nothing to do: the mirror is off (--no-mirror) and no registry URI was given');
}

/** Builds the daemon from a validated configuration and runs it until a stop signal. */
export async function runDaemon(config: Config, log: Logger): Promise<void> {
  checkWritersAvailable(config);
  const docker = createDockerClient(config.docker);
  const etcd = createEtcdClient(config.etcd);
  const writers: Writer[] = [];
  if (config.mirror) writers.push(new MirrorWriter(etcd, { dir: config.etcd.dir, host: config.host }, log.child({ component: 'writer.mirror' })));

  const daemon = new Daemon(docker, writers, log.child({ component: 'daemon' }), { resyncSeconds: config.resync });
  const target: SignalTarget = {
    reconcile: (reason) => daemon.reconcile(reason),
    purgeAndRefill: () => daemon.purgeAndRefill(),
    async stop(deleteHostData) {
      try {
        await daemon.stop(deleteHostData);
      } finally {
        etcd.close();
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
    resync: config.resync,
  });
  await daemon.start();
}
