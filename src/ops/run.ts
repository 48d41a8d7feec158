import type { Etcd3 } from 'etcd3';
import { ConfigError } from '../config-error';
import { createEtcdClient } from '../etcd/client';
import { isEtcdFailure } from '../etcd/errors';
import { createLogger } from '../log';
import { MirrorLayout } from '../mirror/keys';
import { createWriters, HostWriters, loadRegistryParts } from '../writers';
import { checkFleet, fixFleet } from './check';
import { formatCheck } from './check-format';
import { checkProgress } from './check-progress';
import { formatDiff } from './diff-format';
import { EXIT_USAGE, OpsCommand, OpsInvocation, OpsIo, processIo } from './invocation';
import { listHost } from './ls';
import { formatLs } from './ls-format';
import { closeRegistries, coveredUris, openRegistries, OpsRegistry } from './registries';

/** What was to be shown could not be read: `ls` fails with 1; `diff` and `check` with 2, as diff(1) does for trouble. */
const EXIT_TROUBLE: Record<OpsCommand, number> = { ls: 1, diff: 2, check: 2, explain: 2 };

/**
 * Runs `registrator ls`, `diff` or `check`, as `prepareOpsCommand` read it, and resolves with the
 * exit status: the output goes to stdout, logs and errors (one line) to stderr. Nothing is written
 * to Docker, nor to etcd except by `check --fix`.
 */
export async function runOpsInvocation(invocation: OpsInvocation, io: OpsIo = processIo()): Promise<number> {
  const { command, config, json, fix } = invocation;
  const log = createLogger({ ...config.log, stderr: true });
  let etcd: Etcd3 | undefined;
  let registries: OpsRegistry[] = [];
  let hostWriters: HostWriters | undefined;
  try {
    etcd = createEtcdClient(config.etcd);
    if (command === 'explain') {
      const [{ createDockerClient }, { dockerEngine }, { explainContainer, NoSuchContainer }, { formatExplain }] = await Promise.all([
        import('../docker/client'),
        import('../docker/engine'),
        import('./explain'),
        import('./explain-format'),
      ]);
      const engine = dockerEngine(createDockerClient(config.docker), log);
      hostWriters = createWriters(config, { etcd, ...(await loadRegistryParts(config, coveredUris(config.uris), log)), log });
      try {
        const report = await explainContainer(config, engine, etcd, hostWriters, invocation.container ?? '', log);
        io.stdout.write(`${json ? JSON.stringify(report, null, 2) : formatExplain(report)}\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof NoSuchContainer)) throw err;
        io.stderr.write(`registrator explain: ${err.message}\n`);
        return 1;
      }
    }
    if (command === 'diff') {
      // Only diff reads Docker: ls and check do not load its client.
      const [{ createDockerClient }, { dockerEngine }, { planHost }] = await Promise.all([
        import('../docker/client'),
        import('../docker/engine'),
        import('./diff'),
      ]);
      const engine = dockerEngine(createDockerClient(config.docker), log);
      hostWriters = createWriters(config, { etcd, ...(await loadRegistryParts(config, coveredUris(config.uris), log)), log });
      const report = await planHost(config, engine, etcd, hostWriters);
      io.stdout.write(`${json ? JSON.stringify(report, null, 2) : formatDiff(report)}\n`);
      return report.changes > 0 ? 1 : 0;
    }
    registries = await openRegistries(config, etcd, log.child({ component: 'registries' }));
    if (command === 'check') {
      const target = {
        etcd,
        endpoints: config.etcd.hosts.join(','),
        mirror: config.mirror ? new MirrorLayout(config.etcd.dir) : undefined,
        registries,
      };
      // Progress goes to stderr only when it is a terminal; stdout has the report alone.
      const check = await checkFleet(target, { progress: checkProgress(io.stderr) });
      const report = fix ? await fixFleet(check) : check.report;
      io.stdout.write(`${json ? JSON.stringify(report, null, 2) : formatCheck(report)}\n`);
      return report.findings > 0 ? 1 : 0;
    }
    const report = await listHost(config, etcd, registries);
    io.stdout.write(`${json ? JSON.stringify(report, null, 2) : formatLs(report)}\n`);
    return 0;
  } catch (err) {
    const what = isEtcdFailure(err) ? 'cannot read etcd: ' : '';
    io.stderr.write(`registrator ${command}: ${what}${(err as Error).message.split('\n')[0]}\n`);
    return err instanceof ConfigError ? EXIT_USAGE : EXIT_TROUBLE[command];
  } finally {
    await closeRegistries(registries);
    await hostWriters?.close();
    etcd?.close();
  }
}
