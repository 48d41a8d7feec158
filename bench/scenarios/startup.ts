import type { BenchConfiguration } from '../configurations';
import { BenchContext, sleep, timeoutFor } from '../context';
import { BenchDaemon, MemoryFigures } from '../daemon-run';
import { countKeys, nowMs, waitForCounts } from '../measure';
import { Reference } from '../reference';
import { markerPrefixes } from '../shape';

export interface StartupRound {
  /** Reference: list, inspect and one transaction per container, 16 at a time. */
  referenceMs: number;
  /** Daemon: spawn until every fleet container is present in every writer's keys. */
  daemonMs: number;
  /** Of daemonMs: spawn to the `starting` log line. */
  nodeStartMs: number;
  /** The first reconciliation's duration as the daemon logs it. */
  reconcileMs: number;
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
  const listed = await new Reference(ctx.docker, ctx.etcd.client, config.reference).sync();
  const referenceMs = nowMs() - started;
  const written = await countKeys(ctx.etcd.client, markerPrefixes(config.reference, ctx.fleet.fleetPrefix)[0]);
  if (written < size) throw new Error(`reference wrote ${written} of ${size} containers`);

  await clearEtcd(ctx);
  const daemon = new BenchDaemon(ctx.etcd.endpoint, config.args, ctx.cpuProfileDir);
  try {
    const done = await waitForCounts(ctx.etcd.client, markerPrefixes(config.daemon, ctx.fleet.fleetPrefix), size, timeout);
    const round: StartupRound = {
      referenceMs,
      daemonMs: done - daemon.spawnedAt,
      nodeStartMs: await daemon.nodeStartMs(),
      reconcileMs: await daemon.firstReconcileMs(timeout),
      listed,
    };
    const memory = await daemon.memory();
    if (!keep) await daemon.stop();
    return { round, memory, daemon: keep ? daemon : undefined };
  } catch (err) {
    await daemon.stop();
    throw err;
  }
}
