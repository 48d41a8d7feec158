import type { BenchConfiguration } from '../configurations';
import { BenchContext, sleep } from '../context';
import { followEvents } from '../engine-events';
import { nowMs } from '../measure';
import { Reference } from '../reference';
import { markerKeys } from '../shape';
import { waitFor } from '../../test/support/wait';

/** Starts before the measured ones, so connections and code paths are warm on both sides. */
const WARM_UP = 3;
/** Least time between two starts. */
const PACE_MS = 200;

export interface LatencySamples {
  /** Per start: Docker's event time to the last of the daemon's writers' keys appearing in etcd. */
  daemonMs: number[];
  /** The same for the reference, which inspects and writes one transaction on the same event. */
  referenceMs: number[];
  /** Starts whose keys did not all show within 15 s, and what was missing. */
  missed: string[];
}

/**
 * Event-to-key latency of a synced daemon. Containers are started one after another; the bench
 * follows Docker's `start` events itself and on each runs the reference, while an etcd watch notes
 * when every key first appears. Both sides are measured from the event's timeNano, the same way.
 */
export async function latencyScenario(ctx: BenchContext, config: BenchConfiguration, samples: number): Promise<LatencySamples> {
  const reference = new Reference(ctx.docker, ctx.etcd.client, config.reference);
  const eventAt = new Map<string, number>();
  const referenceErrors: unknown[] = [];
  const firstPut = new Map<string, number>();
  const watcher = await ctx.etcd.client.watch().prefix('/').create();
  watcher.on('put', (kv) => {
    const key = kv.key.toString();
    if (!firstPut.has(key)) firstPut.set(key, nowMs());
  });
  const stopEvents = await followEvents(
    ctx.docker,
    (e) => {
      if (e.action !== 'start') return;
      eventAt.set(e.id, e.at);
      reference.write(e.id).catch((err) => referenceErrors.push(err));
    },
    { label: [ctx.fleet.label] },
  );
  const result: LatencySamples = { daemonMs: [], referenceMs: [], missed: [] };
  try {
    for (let i = 0; i < WARM_UP + samples; i++) {
      const began = Date.now();
      const name = `${ctx.fleet.prefix}l${String(i).padStart(3, '0')}`;
      const id = await ctx.fleet.start(name, 4096 + i);
      const daemonKeys = markerKeys(config.daemon, name);
      const referenceKeys = markerKeys(config.reference, name);
      const done = (keys: string[]) => keys.every((k) => firstPut.has(k));
      const complete = await waitFor(`keys of ${name}`, () => eventAt.has(id) && done(daemonKeys) && done(referenceKeys), 15_000, 5).then(
        () => true,
        () => false,
      );
      if (!complete) {
        const inEtcd = async (keys: string[]) =>
          (await Promise.all(keys.map((k) => ctx.etcd.client.get(k).string()))).filter((v) => v !== null).length;
        const seen = (keys: string[]) => keys.filter((k) => firstPut.has(k)).length;
        result.missed.push(
          `${name}: start event ${eventAt.has(id) ? 'seen' : 'not seen'}; daemon keys ${await inEtcd(daemonKeys)}/${daemonKeys.length} in etcd, ` +
            `${seen(daemonKeys)} watched; reference keys ${await inEtcd(referenceKeys)}/${referenceKeys.length} in etcd, ${seen(referenceKeys)} watched` +
            `${referenceErrors.length ? `; reference failed: ${String(referenceErrors.pop())}` : ''}`,
        );
        // A few misses on a loaded machine are reported; many mean something is broken.
        if (result.missed.length > Math.max(2, samples / 5))
          throw new Error(`latency: too many starts not seen through:\n${result.missed.join('\n')}`);
        continue;
      }
      if (i >= WARM_UP) {
        const latency = (keys: string[]) => Math.max(...keys.map((k) => firstPut.get(k)!)) - eventAt.get(id)!;
        result.daemonMs.push(latency(daemonKeys));
        result.referenceMs.push(latency(referenceKeys));
      }
      await sleep(Math.max(0, PACE_MS - (Date.now() - began)));
    }
  } finally {
    stopEvents();
    await watcher.cancel();
  }
  return result;
}
