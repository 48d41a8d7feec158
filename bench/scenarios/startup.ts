import type { BenchConfiguration } from '../configurations';
import { BenchContext, sleep, timeoutFor } from '../context';
import { BenchDaemon, MemoryFigures } from '../daemon-run';
import { countKeys, nowMs, processCpuMs, waitForCounts } from '../measure';
import { Reference } from '../reference';
import { markerPrefixes } from '../shape';

export interface StartupRound {
  /** Reference: list, inspect and one transaction per container, 16 at a time. */
  referenceMs: number;
  /** Daemon: spawn until every fleet container is present in every writer's keys. */
  daemonMs: number;
  /** Of daemonMs: spawn to the `starting` log line (Node, modules, configuration). */
  nodeStartMs: number;
  /** Of daemonMs: `starting` to `subscribed to Docker events` (writers pinged, event stream open). */
  connectMs: number;
  /** Of daemonMs: the first reconciliation as the daemon logs it (held state read, list, every container written). */
  reconcileMs: number;
  /** CPU time the reference loop took in the bench process. */
  referenceCpuMs: number;
  /** CPU time the daemon process used from spawn to synced (Node start and module loading included). */
  daemonCpuMs: number;
  /** Running containers the engine listed (other users' included). */
  listed: number;
}

/** Empties etcd and lets it settle, so one measurement's compaction or fsyncs do not fall into the next. */
async function clearEtcd(ctx: BenchContext): Promise<void> {
  await ctx.etcd.client.delete().all();
  await sleep(300);
}

/**
 * One round at the fleet's current size: the reference into an empty etcd, then the daemon child
 * into an empty etcd. With `keep`, the daemon is left running (and returned) for the scenarios
 * that need a synced daemon.
 */
export async function startupRound(
  ctx: BenchContext,
  config: BenchConfiguration,
  keep: boolean,
): Promise<{ round: StartupRound; memory: MemoryFigures; daemon?: BenchDaemon }> {
  const size = ctx.fleet.size;
  const timeout = timeoutFor(size);
  await clearEtcd(ctx);
  const started = nowMs();
  const cpu = process.cpuUsage();
  const listed = await new Reference(ctx.docker, ctx.etcd.client, config.reference).sync();
  const referenceMs = nowMs() - started;
  const { user, system } = process.cpuUsage(cpu);
  const written = await countKeys(ctx.etcd.client, markerPrefixes(config.reference, ctx.fleet.fleetPrefix)[0].prefix);
  if (written < size) throw new Error(`reference wrote ${written} of ${size} containers`);

  await clearEtcd(ctx);
  const daemon = new BenchDaemon(ctx.etcd.endpoint, config.args, ctx.cpuProfileDir);
  try {
    const done = await daemon.whileRunning(
      waitForCounts(ctx.etcd.client, markerPrefixes(config.daemon, ctx.fleet.fleetPrefix), size, timeout),
    );
    const daemonCpuMs = processCpuMs(daemon.process.pid);
    const round: StartupRound = {
      referenceMs,
      daemonMs: done - daemon.spawnedAt,
      referenceCpuMs: (user + system) / 1000,
      daemonCpuMs,
      nodeStartMs: (await daemon.loggedAt('starting')) - daemon.spawnedAt,
      connectMs: (await daemon.loggedAt('subscribed to Docker events')) - (await daemon.loggedAt('starting')),
      reconcileMs: await daemon.firstReconcileMs(timeout),
      listed,
    };
    const memory = await daemon.memory();
    if (ctx.cpuProfileDir) await daemon.writeProfile();
    if (!keep) await daemon.stop();
    return { round, memory, daemon: keep ? daemon : undefined };
  } catch (err) {
    await daemon.stop();
    throw err;
  }
}
