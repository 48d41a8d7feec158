import type Docker from 'dockerode';
import type { Etcd3 } from 'etcd3';
import { prefixEnd } from '../../src/etcd/key-ops';
import type { EtcdServer } from '../../test/support/etcd';
import { fillFleet, SimulatedFleet, simulatedKeys } from '../../test/support/fleet-fill';
import type { BenchConfiguration } from '../configurations';
import { EtcdLatency, etcdLatency } from '../etcd-latency';
import { sleep } from '../context';
import { BenchDaemon, MemoryFigures } from '../daemon-run';
import type { Fleet } from '../fleet';
import { changesBetween, countKeys, existing, getMany, ranges, revision } from '../measure';
import { HOST, shapeKeys } from '../shape';
import { settledRevision } from './writes';

/**
 * The fleet part: what one daemon costs when its etcd also holds a large fleet's data. Two etcds
 * run side by side, one empty and one filled with `hosts` other hosts x `containers` containers as
 * their daemons write them (test/support/fleet-fill.ts). The same daemon, on a host running
 * `containers` containers of its own, lives once on each per round: start, first reconciliation,
 * an idle SIGHUP, SIGTERM. Every figure is reported for both and as the ratio filled / empty.
 */
export interface FleetSpec {
  /** Other hosts in the filled etcd. */
  hosts: number;
  /** Containers per simulated host, and the bench host's own containers. */
  containers: number;
}

/** Goal for every filled / empty ratio: a host's routine costs do not grow with the fleet (docs/performance.md, "Fleet"). */
export const FLEET_GOAL = 1.2;

/** Simulated host names are `sim0000`..: none may be, or begin like, the bench daemon's host name. */
const SIMULATED_HOST_PREFIX = 'sim';

/** Longest any one step may take (a first reconciliation, a SIGHUP, a SIGTERM); the daemon is given a lot of room on a filled etcd. */
const STEP_TIMEOUT_MS = 600_000;

/** Quiet window in which etcd must send nothing before the idle SIGHUP is measured. */
const QUIET_MS = 500;

/** Keys etcd writes per second here while filling (1.6 M in about 90 s, TESTING.md): for the estimate shown before a fill. */
const FILL_KEYS_PER_S = 17_000;

export interface FleetContext {
  docker: Docker;
  fleet: Fleet;
  /** The reference: an etcd holding nothing but what the daemon writes. */
  empty: EtcdServer;
  /** The same with the simulated fleet in it. */
  filled: EtcdServer;
  say: (line: string) => void;
}

/** What was checked around one daemon's life on one etcd. */
interface FleetChecks {
  /** This host's containers whose keys were compared (all of them). */
  containers: number;
  /** Their keys (shapeKeys) that were absent, or held another value, after the first reconciliation. */
  missing: number;
  wrong: number;
  /** Keys under their mirror and hamesh entries that shapeKeys does not give. */
  extra: number;
  /** Keys that existed before the daemon started (the fleet's) and that it put or deleted: goal 0. */
  othersChanged: number;
  /** Keys the daemon put that were still there after SIGTERM (removed by the bench before the next round): goal 0. */
  leftAfterSigterm: number;
  /** Every key in that etcd just before the daemon started, and after it exited, its leftovers not counted. */
  keysBefore: number;
  keysAfter: number;
}

/** One daemon's life on one etcd. */
export interface FleetLife {
  /** Spawn to the first `reconciled` log line's timestamp. */
  startMs: number;
  /** The `reason` of that line (`subscribed` unless the first attempt failed). */
  firstReason: string;
  /**
   * Containers the first and the SIGHUP reconciliation went through, as the daemon logs them: this
   * host's own and any other user's running on the engine (which come and go on a shared machine).
   */
  firstContainers: number;
  sighupContainers: number;
  /** SIGHUP with nothing changed, to the `reconciled` line with reason SIGHUP. */
  sighupMs: number;
  /** The same reconciliation's duration as the daemon logs it. */
  sighupLoggedMs: number;
  /** etcd_network_client_grpc_sent_bytes_total after that reconciliation minus before the signal. */
  sighupSentBytes: number;
  /** What etcd sent in a quiet window of QUIET_MS just before (0 unless something else talks to it). */
  quietSentBytes: number;
  /** SIGTERM to the process's exit (it deletes this host's data first). */
  sigtermMs: number;
  /** What etcd sent from the SIGTERM to the exit (not a goal of its own: it tells a slow exit's reads from a slow machine). */
  sigtermSentBytes: number;
  exitCode: number | null;
  /** Memory once the first reconciliation is done (RSS read first, then the heap after a full collection). */
  memory: MemoryFigures;
  checks: FleetChecks;
}

interface FleetConfigurationResult {
  name: string;
  /** Keys in the filled etcd while this configuration ran, and the registry URIs its simulated hosts write. */
  fleetKeys: number;
  fleetUris: string[];
  empty: FleetLife[];
  filled: FleetLife[];
}

export interface FleetResult extends FleetSpec {
  configurations: FleetConfigurationResult[];
  /** etcd's own cost of the same requests on the empty and the filled etcd (bench/etcd-latency.ts). */
  etcdLatency?: EtcdLatency[];
}

/** The registry URIs among a configuration's arguments. */
function registryUris(config: BenchConfiguration): string[] {
  return config.args.filter((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a));
}

/**
 * Brings the filled etcd to what hosts running `uris` write: the mirror entries once, then the
 * registrations of any URI not yet in. Resolves with the keys written.
 */
async function fill(ctx: FleetContext, spec: FleetSpec, uris: string[], mirror: boolean, keysSoFar: number): Promise<number> {
  const fleet: SimulatedFleet = { hosts: spec.hosts, containers: spec.containers, prefix: SIMULATED_HOST_PREFIX, uris, mirror };
  let perContainer = 0;
  for (const _ of simulatedKeys({ ...fleet, hosts: 1, containers: 1 })) perContainer++;
  const total = perContainer * spec.hosts * spec.containers;
  const what = [...(mirror ? ['mirror entries'] : []), ...uris.map((u) => `${u} registrations`)].join(', ');
  ctx.say(
    `fleet: filling etcd with ${spec.hosts} hosts x ${spec.containers} containers (${what}): ${total.toLocaleString('en')} keys, ` +
      `about ${Math.round(total / FILL_KEYS_PER_S)} s here (1.7 M keys take 90-120 s on 2 cores)...`,
  );
  const began = Date.now();
  let done = false;
  const progress = setInterval(() => {
    countKeys(ctx.filled.client, '/')
      .then(
        (n) =>
          done ||
          ctx.say(
            `  ${(n - keysSoFar).toLocaleString('en')} of ${total.toLocaleString('en')} keys after ${Math.round((Date.now() - began) / 1000)} s`,
          ),
      )
      .catch(() => undefined);
  }, 15_000);
  try {
    const written = await fillFleet(ctx.filled.client, fleet);
    ctx.say(`  filled: ${written.toLocaleString('en')} keys in ${Math.round((Date.now() - began) / 1000)} s`);
    return written;
  } finally {
    done = true;
    clearInterval(progress);
  }
}

/** Every key this host's writers should hold for its own bench containers, and the entry trees that must hold nothing else. */
async function ownExpected(
  ctx: FleetContext,
  config: BenchConfiguration,
): Promise<{ containers: number; keys: Map<string, string>; trees: string[] }> {
  const list = await ctx.docker.listContainers({ filters: { label: [ctx.fleet.label] } });
  const ids = list.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(ctx.fleet.fleetPrefix))).map((c) => c.Id);
  const keys = new Map<string, string>();
  const trees = new Set<string>();
  for (const id of ids) {
    const info = await ctx.docker.getContainer(id).inspect();
    for (const [key, value] of shapeKeys(info, config.daemon)) {
      keys.set(key, value);
      if (key.startsWith(`/${config.daemon.mirrorDir}/containers/`)) trees.add(`/${config.daemon.mirrorDir}/containers/${id}/`);
      // <prefix>/<name>/<id>/...: one tree per service.
      if (config.daemon.hamesh && key.startsWith(`/${config.daemon.hamesh}/`)) trees.add(`${key.split('/').slice(0, 4).join('/')}/`);
    }
  }
  return { containers: ids.length, keys, trees: [...trees] };
}

/** Compares what etcd holds for this host's own containers with what it should hold, exactly. */
async function compareOwn(
  etcd: EtcdServer,
  expected: Awaited<ReturnType<typeof ownExpected>>,
): Promise<Pick<FleetChecks, 'containers' | 'missing' | 'wrong' | 'extra'>> {
  const held = await getMany(etcd.client, [...expected.keys.keys()]);
  let missing = 0;
  let wrong = 0;
  for (const [key, value] of expected.keys) {
    if (!held.has(key)) missing++;
    else if (held.get(key) !== value) wrong++;
  }
  const trees = await ranges(
    etcd.client,
    expected.trees.map((t) => ({ key: Buffer.from(t), range_end: prefixEnd(t), keys_only: true })),
  );
  const extra = trees.flatMap((t) => t.kvs).filter((kv) => !expected.keys.has(kv.key.toString())).length;
  return { containers: expected.containers, missing, wrong, extra };
}

/** Bytes etcd sends in a quiet window: 0 when nothing talks to it. */
async function quietBytes(etcd: EtcdServer): Promise<number> {
  const before = await etcd.sentBytes();
  await sleep(QUIET_MS);
  return (await etcd.sentBytes()) - before;
}

/**
 * One daemon's life on one etcd: spawn, first reconciliation (memory, then this host's keys
 * compared), an idle SIGHUP with etcd's sent bytes read around it, SIGTERM. Then etcd's history
 * tells what it changed: nothing that existed before it started may be among it, and after SIGTERM
 * nothing it put may be left (what is left is removed here, so every life starts alike).
 */
async function life(ctx: FleetContext, etcd: EtcdServer, config: BenchConfiguration): Promise<FleetLife> {
  const client = etcd.client;
  const expected = await ownExpected(ctx, config);
  const keysBefore = await countKeys(client, '/');
  const revBefore = await settledRevision(client);
  const daemon = new BenchDaemon(etcd.endpoint, config.args);
  let figures: Omit<FleetLife, 'checks'>;
  let own: Awaited<ReturnType<typeof compareOwn>>;
  try {
    const firstAt = await daemon.whileRunning(daemon.loggedAt('reconciled', STEP_TIMEOUT_MS));
    const memory = await daemon.memory();
    const first = daemon.process.lines.find((l) => l.message === 'reconciled')!;
    own = await compareOwn(etcd, expected);
    await settledRevision(client);
    const quietSentBytes = await quietBytes(etcd);
    const sentBefore = await etcd.sentBytes();
    const hup = await daemon.sighup(STEP_TIMEOUT_MS);
    const sighupSentBytes = (await etcd.sentBytes()) - sentBefore;
    const sentBeforeTerm = await etcd.sentBytes();
    const term = await daemon.terminate(STEP_TIMEOUT_MS);
    const sigtermSentBytes = (await etcd.sentBytes()) - sentBeforeTerm;
    figures = {
      startMs: firstAt - daemon.spawnedAt,
      firstReason: String(first.reason),
      firstContainers: Number(first.containers),
      sighupContainers: hup.containers,
      sighupMs: hup.signalToDoneMs,
      sighupLoggedMs: hup.loggedMs,
      sighupSentBytes,
      quietSentBytes,
      sigtermMs: term.ms,
      sigtermSentBytes,
      exitCode: term.code,
      memory,
    };
  } finally {
    await daemon.stop();
  }
  return { ...figures, checks: { ...own, ...(await restore(client, revBefore)), keysBefore } };
}

/**
 * What a daemon that has exited changed since `revBefore`, from etcd's history: keys that existed
 * before (other hosts') it put or deleted, and keys it put that are still there, which are then
 * deleted so the next daemon starts from the same etcd. `keysAfter` leaves those out.
 */
async function restore(client: Etcd3, revBefore: number): Promise<Pick<FleetChecks, 'othersChanged' | 'leftAfterSigterm' | 'keysAfter'>> {
  const changes = await changesBetween(client, revBefore, await revision(client), 60_000);
  const changed = [...new Set(changes.map((c) => c.key))];
  const before = new Set(await existing(client, changed, revBefore));
  const put = [...new Set(changes.filter((c) => c.kind === 'put').map((c) => c.key))];
  const left = (await existing(client, put)).filter((k) => !before.has(k));
  const keysAfter = (await countKeys(client, '/')) - left.length;
  for (const key of left) await client.delete().key(key);
  return { othersChanged: before.size, leftAfterSigterm: left.length, keysAfter };
}

/** A line per life for the progress output. */
function describe(life: FleetLife): string {
  const c = life.checks;
  const problems = [
    ...(c.missing + c.wrong + c.extra > 0
      ? [`own keys NOT exact: ${c.missing} missing, ${c.wrong} wrong, ${c.extra} extra of ${c.containers} containers`]
      : []),
    ...(c.othersChanged > 0 ? [`${c.othersChanged} keys of others changed`] : []),
    ...(c.leftAfterSigterm > 0 ? [`${c.leftAfterSigterm} keys left after SIGTERM`] : []),
    ...(life.exitCode !== 0 ? [`exit status ${life.exitCode}`] : []),
    ...(life.firstReason !== 'subscribed' ? [`first reconciliation: ${life.firstReason}`] : []),
    ...(life.quietSentBytes > 0 ? [`etcd sent ${life.quietSentBytes} bytes while the daemon was idle`] : []),
  ];
  return (
    `${life.sighupContainers} containers; start ${Math.round(life.startMs)} ms, SIGHUP ${Math.round(life.sighupMs)} ms / ${(life.sighupSentBytes / 1024).toFixed(1)} KiB sent, ` +
    `SIGTERM ${Math.round(life.sigtermMs)} ms / ${(life.sigtermSentBytes / 1024).toFixed(1)} KiB sent, RSS ${life.memory.rssMiB.toFixed(1)} MiB${problems.length ? `; ${problems.join('; ')}` : ''}`
  );
}

/**
 * The fleet part over the selected configurations. Runs on the fleet's first `spec.containers`
 * containers (call it before the fleet grows for anything else). The filled etcd gets the mirror
 * entries before the first configuration and each configuration's registrations before it runs,
 * so each configuration sees a fleet of hosts configured like it (later ones a superset).
 */
export async function fleetScenario(
  ctx: FleetContext,
  configs: BenchConfiguration[],
  spec: FleetSpec,
  rounds: number,
): Promise<FleetResult> {
  if (HOST.startsWith(SIMULATED_HOST_PREFIX))
    throw new Error(`the bench host ${HOST} would share its name's start with the simulated hosts (${SIMULATED_HOST_PREFIX}0000...)`);
  if (ctx.fleet.size > spec.containers)
    throw new Error(`the fleet part needs exactly ${spec.containers} bench containers and ${ctx.fleet.size} run: run it first`);
  ctx.say(`fleet: starting ${spec.containers} containers of this host...`);
  await ctx.fleet.growTo(spec.containers);
  // One life not measured: the first start of a run pays for cold caches (files, the engine) that the others do not.
  ctx.say('fleet: one daemon started and stopped on the empty etcd to warm up...');
  await life(ctx, ctx.empty, configs[0]);
  const result: FleetResult = { ...spec, configurations: [] };
  const filledUris = new Set<string>();
  let fleetKeys = 0;
  for (const config of configs) {
    const missing = registryUris(config).filter((u) => !filledUris.has(u));
    if (fleetKeys === 0 || missing.length > 0) {
      fleetKeys += await fill(ctx, spec, missing, fleetKeys === 0, fleetKeys);
      for (const u of missing) filledUris.add(u);
      // A moment for etcd's own work after the fill (backend commit, snapshot) before anything is timed.
      await sleep(2_000);
    }
    const entry: FleetConfigurationResult = { name: config.name, fleetKeys, fleetUris: [...filledUris], empty: [], filled: [] };
    for (let round = 0; round < rounds; round++) {
      // Alternating which etcd goes first spreads any drift of the machine over both.
      const order = round % 2 === 0 ? (['empty', 'filled'] as const) : (['filled', 'empty'] as const);
      for (const which of order) {
        const figures = await life(ctx, ctx[which], config);
        entry[which].push(figures);
        ctx.say(`  ${config.name} ${which} etcd round ${round + 1}: ${describe(figures)}`);
        const held = which === 'filled' ? fleetKeys : 0;
        if (figures.checks.keysBefore !== held)
          ctx.say(`    that etcd held ${figures.checks.keysBefore} keys before the daemon started, not ${held}`);
      }
    }
    result.configurations.push(entry);
  }
  ctx.say('fleet: timing the same requests on both etcds...');
  result.etcdLatency = await etcdLatency(ctx.empty, ctx.filled);
  return result;
}
