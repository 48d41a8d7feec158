import type { Etcd3 } from 'etcd3';
import type { BenchConfiguration } from '../configurations';
import { BenchContext, sleep, timeoutFor } from '../context';
import type { BenchDaemon } from '../daemon-run';
import { EngineEvent, foreignEvents } from '../engine-events';
import { Changes, changesBetween, countChanges, countKeys, nowMs, revision } from '../measure';
import { markerKeys } from '../shape';
import { waitFor } from '../../test/support/wait';

export interface WriteCounts extends Changes {
  /** Events of other users' containers in the window (a shared engine). */
  foreignEvents: number;
  /** Puts and deletes of keys of those containers, left out of the counts above. */
  foreignWrites: number;
}

/** Whether a key belongs to one of these containers: mirror keys hold its id or `/<name>`, service keys `<host>:<name>:`. */
function ofContainers(containers: EngineEvent[]): (key: string) => boolean {
  const marks = containers.flatMap((c) => {
    const name = c.attributes.name ?? c.id;
    return [c.id, `:${name}:`, `%3A${encodeURIComponent(name)}%3A`];
  });
  const names = containers.map((c) => `/${c.attributes.name ?? c.id}`);
  return (key) => marks.some((m) => key.includes(m)) || names.some((n) => key.endsWith(n));
}

/** The revision once it has not moved for `quietMs`: whatever the daemon was doing is done. */
export async function settledRevision(etcd: Etcd3, quietMs = 1_000): Promise<number> {
  let last = await revision(etcd);
  for (let stillSince = Date.now(); Date.now() - stillSince < quietMs;) {
    await sleep(100);
    const now = await revision(etcd);
    if (now !== last) {
      last = now;
      stillSince = Date.now();
    }
  }
  return last;
}

/** Counts what etcd recorded while `action` ran and the daemon settled afterwards. */
async function writesDuring(ctx: BenchContext, action: () => Promise<void>): Promise<WriteCounts> {
  const before = await settledRevision(ctx.etcd.client);
  const from = nowMs();
  await action();
  const after = await settledRevision(ctx.etcd.client);
  const changes = await changesBetween(ctx.etcd.client, before, after);
  const foreign = await foreignEvents(ctx.docker, from, nowMs(), ctx.fleet.label);
  const isForeign = ofContainers(foreign);
  const own = changes.filter((c) => !isForeign(c.key));
  return { ...countChanges(own), foreignEvents: foreign.length, foreignWrites: changes.length - own.length };
}

/**
 * etcd writes of a synced daemon: a SIGHUP resync with nothing changed (goal 0), then one
 * container start (one transaction per writer). The started container stays until the latency run ends.
 */
export interface WritesResult {
  sighupIdle: WriteCounts;
  /** How long that SIGHUP reconciliation took (read every store, inspect every container, write nothing). */
  sighupMs: number;
  oneStart: WriteCounts;
}

export async function writesScenario(ctx: BenchContext, config: BenchConfiguration, daemon: BenchDaemon): Promise<WritesResult> {
  const timeout = timeoutFor(ctx.fleet.size);
  let sighupMs = NaN;
  const sighupIdle = await writesDuring(ctx, async () => {
    sighupMs = (await daemon.sighup(timeout)).loggedMs;
  });
  const name = `${ctx.fleet.prefix}w`;
  const oneStart = await writesDuring(ctx, async () => {
    await ctx.fleet.start(name, 4095);
    const markers = markerKeys(config.daemon, name);
    await waitFor(
      'the started container in etcd',
      async () => (await Promise.all(markers.map((k) => countKeys(ctx.etcd.client, k)))).every((n) => n > 0),
      15_000,
      20,
    );
  });
  return { sighupIdle, sighupMs, oneStart };
}
