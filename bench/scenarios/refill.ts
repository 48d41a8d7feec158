import { setMaxListeners } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { Etcd3, Lease } from 'etcd3';
import { healWindowMs } from '../../src/daemon/heal-window';
import { etcdClientOptions } from '../../src/etcd/client';
import { prefixEnd } from '../../src/etcd/key-ops';
import { deletePrefixInPages } from '../../src/etcd/purge';
import { MirrorLayout } from '../../src/mirror/keys';
import { packageVersion } from '../../src/version';
import type { EtcdServer } from '../../test/support/etcd';
import { fillFleet, SimulatedFleet } from '../../test/support/fleet-fill';
import { Http2StreamCounter } from '../../test/support/h2-stream-counter';
import { sleep } from '../context';
import { BenchDaemon } from '../daemon-run';
import type { Fleet } from '../fleet';
import { countKeys, processCpuMs, ranges, revision } from '../measure';
import { pool } from '../pool';
import { ProbeFigures, probeFigures, ProbeReads } from '../probe-reads';
import { HOST } from '../shape';
import { CLAIMS_PREFIX, FAILURE_KINDS, FailureKind, HostRefill, Schedule, SimulatedHost } from '../simulated-host';

/**
 * The refill part: a whole fleet healing at once after its mirror was purged (a SIGUSR2 on any
 * host), the case the self-healing window is sized for (docs/performance.md, "Refill"). One etcd
 * holds `hosts - 1` simulated hosts x `containers` containers (test/support/fleet-fill.ts) with
 * their lease-held claims, and one real daemon (the built CLI) on this engine with `containers`
 * containers of the bench's own, talking to etcd through a proxy that counts its requests. The
 * bench purges the whole mirror with the one deletion a daemon's SIGUSR2 sends; every host then
 * heals on its own: the simulated ones as bench/simulated-host.ts does, the daemon as it does.
 * This runs twice: with the fleet-sized window, then with the one-second window of before.
 */
export interface RefillSpec {
  /** Hosts in the fleet, the real daemon's included. */
  hosts: number;
  /** Containers per simulated host, and the bench host's own containers. */
  containers: number;
  /** The refills to run, in this order (BENCH_REFILL_SCHEDULES; default all three). */
  schedules?: readonly Schedule[];
}

export const SCHEDULES: readonly Schedule[] = ['fleet', 'one-second'];

/** The goals of issue 24, point 4 (docs/performance.md, "Refill"). */
export const REFILL_GOALS = { requestsPerWrite: 1.2, probeP99Ms: 1_000 };

/** Simulated host names are `sim0000`..; the bench daemon's host name must not begin like them. */
const SIMULATED_HOST_PREFIX = 'sim';
/** The mirror prefix every host writes under (the daemon's default). */
const MIRROR_DIR = 'registry';
/** How long past its window a refill may go on before the bench stops it and reports what was not back. */
const LIMIT_AFTER_WINDOW_MS = 300_000;
/** The probe reads one key this often, and for this long on the idle etcd before the purge. */
const PROBE_INTERVAL_MS = 100;
const IDLE_PROBE_MS = 10_000;
const PROBE_KEY = '/_bench/probe';
/** The simulated hosts' claims are held by one lease of this many seconds, kept alive by the bench. */
const CLAIM_TTL_S = 60;
const CLAIMS_PER_TXN = 120;
/** Requests of a known client sent through the counter before it counts the daemon's: it must count each once. */
const COUNTER_CHECK_REQUESTS = 20;
/** Clients created or connected at once when the simulated hosts get their own. */
const CONNECT_CONCURRENCY = 50;
/** How often progress is shown while a refill runs. */
const PROGRESS_MS = 15_000;

export interface RefillContext {
  docker: Docker;
  fleet: Fleet;
  /** The etcd of this part alone, started with room for the fleet (`--quota-backend-bytes`). */
  etcd: EtcdServer;
  say: (line: string) => void;
}

/** What the real daemon did in one refill. */
interface DaemonRefill {
  /** Its container entries before the purge (its `hosts/<host>/` keys): the writes it needed. */
  neededWrites: number;
  /** New HTTP/2 streams it opened to etcd from the purge to its `reconciled` line after it (each a gRPC call). */
  requests: number;
  /** The same over the idle span before the purge (its background: the claim's probe every second), and that rate over the refill's span. */
  idleRequests: number;
  backgroundRequests: number;
  /** (requests - backgroundRequests) / neededWrites: what the refill itself asked of etcd per entry it wrote back. */
  requestsPerWrite: number;
  /** requests / neededWrites, the background included. */
  allRequestsPerWrite: number;
  /** The self-healing delay it logged (`inMs` of its "writing it back" line), if it logged one. */
  delayMs?: number;
  /** From the purge until all its `hosts/<host>/` keys were back, and until its `reconciled` line. */
  keysBackMs?: number;
  reconciledMs?: number;
  /** Its `reconcile failed; will retry` and `write failed` lines during the refill. */
  failedReconciliations: number;
  failedWrites: number;
  /** Connections it opened through the counter so far (a reconnect opens another). */
  connections: number;
}

/** One refill, from the purge until every host is back or the limit passed. */
export interface RefillRun {
  schedule: Schedule;
  /** Claims under /_registrator/hosts/ just before the purge. */
  claims: number;
  /** The window the simulated hosts' delays were spread over (healWindowMs of what they counted), and their longest delay. */
  windowMs: number;
  longestDelayMs: number;
  /** The bound: the window plus LIMIT_AFTER_WINDOW_MS. */
  limitMs: number;
  /** The purge: the mirror prefix deleted in `purgeDeletions` deletions of up to PURGE_PAGE_KEYS keys, first sent to last answered. */
  purgeMs: number;
  purgeDeletions: number;
  /** From the purge until the last host had its keys back; undefined when some were not back at the limit. */
  convergedMs?: number;
  /** Hosts whose `hosts/<host>/` keys were all back at the end (count-only reads), of `hosts`. */
  hostsConverged: number;
  hosts: number;
  /** Keys under the mirror prefix before the purge and at the end. */
  keysBefore: number;
  keysAfter: number;
  simulated: {
    /** Reconciliations over all simulated hosts, hosts that needed more than one, and the most one host needed. */
    attempts: number;
    hostsRetried: number;
    mostAttempts: number;
    /** Container entries written back (committed transactions). */
    written: number;
    /** Failed requests (after each client's own retry), by kind. */
    failures: Record<FailureKind, number>;
    /** Median and last time from the purge to a simulated host's keys all back. */
    medianDoneMs?: number;
    lastDoneMs?: number;
  };
  daemon: DaemonRefill;
  probe: { idle: ProbeFigures; refill: ProbeFigures; p99Ratio: number; slowest: Array<{ afterPurgeMs: number; ms: number }> };
  /** CPU time from the purge to the end of the refill: etcd's, the bench process's (the simulated fleet) and the daemon's. */
  cpuMs: { etcd: number; bench: number; daemon: number };
  /** Wall time of that span. */
  wallMs: number;
}

export interface RefillResult extends RefillSpec {
  /** Keys the fill wrote (the simulated hosts' mirror entries and index records). */
  fleetKeys: number;
  /** The counter's check: requests sent through it by a known client, and streams it counted for them. */
  counterCheck: { sent: number; counted: number };
  runs: RefillRun[];
}

/** The pid of the etcd serving from `dataDir`, found by its command line. */
function etcdPid(dataDir: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(dataDir) && argv.some((a) => a.endsWith('etcd'))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

const cpuOf = (pid: number | undefined) => {
  try {
    return pid === undefined ? NaN : processCpuMs(pid);
  } catch {
    return NaN;
  }
};

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}

/** The simulated hosts' claims, as a daemon's: `{"host","engine":{"id","name"},"hostname","pid","version","since"}`, all on one lease. */
async function claim(etcd: EtcdServer, hosts: readonly SimulatedHost[]): Promise<Lease> {
  const lease = etcd.client.lease(CLAIM_TTL_S);
  const id = await lease.grant();
  const since = new Date().toISOString();
  const version = packageVersion();
  for (let i = 0; i < hosts.length; i += CLAIMS_PER_TXN) {
    const batch = hosts.slice(i, i + CLAIMS_PER_TXN);
    const value = (host: string) =>
      JSON.stringify({ host, engine: { id: `engine-${host}`, name: host }, hostname: host, pid: 1, version, since });
    await etcd.client.kv.txn({
      success: batch.map((h) => ({ request_put: { key: Buffer.from(h.claimKey), value: Buffer.from(value(h.host)), lease: id } })),
    });
  }
  return lease;
}

/** `hosts/<host>/` keys of each host (count-only reads, 128 per transaction). */
async function hostCounts(client: Etcd3, layout: MirrorLayout, hosts: readonly string[]): Promise<number[]> {
  const answers = await ranges(
    client,
    hosts.map((h) => ({ key: Buffer.from(layout.hostPrefix(h)), range_end: prefixEnd(layout.hostPrefix(h)), count_only: true })),
  );
  return answers.map((a) => Number(a.count));
}

/** Checks that the counter counts one stream per request of a known client, before it counts the daemon's. */
async function checkCounter(counter: Http2StreamCounter): Promise<RefillResult['counterCheck']> {
  const client = new Etcd3({ hosts: `http://${counter.endpoint}` });
  try {
    await client.get(PROBE_KEY).buffer();
    const from = Date.now();
    for (let i = 0; i < COUNTER_CHECK_REQUESTS / 2; i++) await client.get(PROBE_KEY).buffer();
    await Promise.all(Array.from({ length: COUNTER_CHECK_REQUESTS / 2 }, (_, i) => client.put(`${PROBE_KEY}/check/${i}`).value('x')));
    return { sent: COUNTER_CHECK_REQUESTS, counted: counter.between(from) };
  } finally {
    client.close();
    await client
      .delete()
      .prefix(`${PROBE_KEY}/check/`)
      .catch(() => undefined);
  }
}

/**
 * The refill part. Needs the engine to run no more bench containers than `spec.containers` (run
 * it before the startup part grows them).
 */
export async function refillScenario(ctx: RefillContext, spec: RefillSpec): Promise<RefillResult> {
  if (HOST.startsWith(SIMULATED_HOST_PREFIX))
    throw new Error(`the bench host ${HOST} would share its name's start with the simulated hosts (${SIMULATED_HOST_PREFIX}0000...)`);
  if (ctx.fleet.size > spec.containers)
    throw new Error(`the refill part needs exactly ${spec.containers} bench containers and ${ctx.fleet.size} run: run it first`);
  const { etcd, say } = ctx;
  const simulatedFleet: SimulatedFleet = {
    hosts: spec.hosts - 1,
    containers: spec.containers,
    prefix: SIMULATED_HOST_PREFIX,
    dir: MIRROR_DIR,
  };
  say(
    `refill: filling etcd with ${simulatedFleet.hosts} simulated hosts x ${spec.containers} containers (mirror entries) while ${spec.containers} containers of this host start...`,
  );
  const began = Date.now();
  const [fleetKeys] = await Promise.all([fillFleet(etcd.client, simulatedFleet), ctx.fleet.growTo(spec.containers)]);
  say(`  filled: ${fleetKeys.toLocaleString('en')} keys in ${Math.round((Date.now() - began) / 1000)} s`);
  await etcd.client.put(PROBE_KEY).value('probe');

  const hosts = Array.from({ length: simulatedFleet.hosts }, (_, h) => h);
  const simulated: SimulatedHost[] = [];
  const counter = await Http2StreamCounter.start(etcd.endpoint);
  let daemon: BenchDaemon | undefined;
  try {
    say(`refill: ${simulatedFleet.hosts} simulated hosts take their claims and an etcd client each (the daemon's client options)...`);
    const options = etcdClientOptions({ hosts: [etcd.url], ca: '', cert: '', key: '', user: '', password: '' });
    for (const h of hosts) simulated.push(new SimulatedHost(simulatedFleet, h, new Etcd3(options)));
    const lease = await claim(etcd, simulated);
    // Connected before the purge, as running daemons are.
    await pool(simulated, CONNECT_CONCURRENCY, async (s) => void (await s.client.get(s.claimKey).buffer()));

    const counterCheck = await checkCounter(counter);
    say(`refill: the request counter counted ${counterCheck.counted} streams for ${counterCheck.sent} requests of a known client`);
    say(`refill: starting the daemon (mirror only, host ${HOST}) through the counter...`);
    daemon = new BenchDaemon(counter.endpoint, []);
    await daemon.whileRunning(daemon.loggedAt('reconciled', 120_000));

    const runs: RefillRun[] = [];
    // Each next refill starts from an etcd holding the live keys only, as the first did.
    const compact = async () => {
      say('refill: compacting etcd before the next refill...');
      await etcd.client.kv.compact({ revision: String(await revision(etcd.client)), physical: true });
    };
    const schedules = SCHEDULES.filter((s) => (spec.schedules ?? SCHEDULES).includes(s));
    for (const schedule of schedules.filter((s) => s !== 'one-second')) {
      if (runs.length > 0) await compact();
      runs.push(await refill(ctx, spec, simulated, daemon, counter, schedule));
    }
    if (!schedules.includes('one-second')) return { ...spec, fleetKeys, counterCheck, runs };
    if (runs.length > 0) await compact();
    // Without the claims every host knows only itself: the window of before. The daemon keeps the
    // largest count it has seen, so a new one takes its place (SIGINT keeps the data).
    await lease.revoke();
    await daemon.stop();
    say('refill: the simulated claims revoked; a new daemon started, which sees only its own claim...');
    daemon = new BenchDaemon(counter.endpoint, []);
    await daemon.whileRunning(daemon.loggedAt('reconciled', 120_000));
    runs.push(await refill(ctx, spec, simulated, daemon, counter, 'one-second'));
    return { ...spec, fleetKeys, counterCheck, runs };
  } finally {
    await daemon?.stop();
    for (const s of simulated) s.client.close();
    await counter.stop();
  }
}

/** One refill: idle probe, purge, every host healing, then what is back counted host by host. */
async function refill(
  ctx: RefillContext,
  spec: RefillSpec,
  simulated: SimulatedHost[],
  daemon: BenchDaemon,
  counter: Http2StreamCounter,
  schedule: Schedule,
): Promise<RefillRun> {
  const { etcd, say } = ctx;
  const layout = new MirrorLayout(MIRROR_DIR);
  const client = etcd.client;
  const claims = await countKeys(client, CLAIMS_PREFIX);
  const keysPerHost = spec.containers * 16;
  const windowMs =
    schedule !== 'one-second' ? healWindowMs({ hosts: Math.max(1, claims), keysPerHost }) : healWindowMs({ hosts: 1, keysPerHost: 0 });
  const limitMs = windowMs + LIMIT_AFTER_WINDOW_MS;
  const [neededWrites] = await hostCounts(client, layout, [HOST]);
  const keysBefore = await countKeys(client, layout.allPrefix);
  say(
    `refill (${schedule} window): ${claims} claims, window ${(windowMs / 1000).toFixed(1)} s; ${keysBefore.toLocaleString('en')} mirror keys, ` +
      `the daemon's ${neededWrites} entries among them; probing the idle etcd for ${IDLE_PROBE_MS / 1000} s...`,
  );
  const probe = new ProbeReads({ url: etcd.url, key: PROBE_KEY, intervalMs: PROBE_INTERVAL_MS });
  probe.start();
  await sleep(500); // the worker's start and connection are not probe reads
  const idleFrom = Date.now();
  await sleep(IDLE_PROBE_MS);
  const reconciledBefore = daemon.process.count('reconciled');
  const linesBefore = daemon.process.lines.length;
  const etcdProcess = etcdPid(etcd.dataDir);
  const cpuBefore = { etcd: cpuOf(etcdProcess), bench: process.cpuUsage(), daemon: cpuOf(daemon.process.pid) };

  // What a SIGUSR2 deletes, as it deletes it (MirrorWriter.purgeAll: the whole mirror prefix in pages of PURGE_PAGE_KEYS).
  const purgeAt = Date.now();
  const deletions = await deletePrefixInPages(client, layout.allPrefix);
  const purgedAt = Date.now();
  say(
    `  purged in ${((purgedAt - purgeAt) / 1000).toFixed(1)} s (${deletions} deletions); every host heals on its own now (bound: ${Math.round(limitMs / 1000)} s)`,
  );

  const abort = new AbortController();
  // Each simulated host's syncs waiting for their slot listen to it: thousands at once.
  setMaxListeners(0, abort.signal);
  const heals = simulated.map((s) => s.heal(purgedAt, schedule, abort.signal));
  let daemonKeysBackAt: number | undefined;
  // Back when all its entries are, or when it says it has reconciled since the purge: another user's
  // container that is gone meanwhile (a shared engine) is not written back.
  const daemonBack = (async () => {
    while (!abort.signal.aborted) {
      const [n] = await hostCounts(client, layout, [HOST]).catch(() => [0]);
      if (n >= neededWrites || daemon.process.count('reconciled') > reconciledBefore) return (daemonKeysBackAt = Date.now());
      await sleep(250);
    }
    return undefined;
  })();
  let finished = 0;
  for (const h of heals) void h.then(() => finished++);
  const progress = setInterval(() => {
    say(
      `  after ${Math.round((Date.now() - purgeAt) / 1000)} s: ${finished} of ${simulated.length} simulated hosts back, ` +
        `the daemon's keys ${daemonKeysBackAt ? 'back' : 'not yet back'}, ${counter.between(purgeAt)} daemon requests`,
    );
  }, PROGRESS_MS);
  let limitTimer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (limitTimer = setTimeout(resolve, Math.max(0, purgeAt + limitMs - Date.now()))));
  const all = Promise.all([Promise.all(heals), daemonBack]);
  await Promise.race([all, limit]);
  abort.abort();
  clearTimeout(limitTimer);
  clearInterval(progress);
  const refills: HostRefill[] = await Promise.all(heals);
  await daemonBack;
  // Its `reconciled` line comes just after its last write.
  const reconciledLine = async () => {
    if (daemonKeysBackAt === undefined) return undefined;
    await daemon.process.waitForLog('reconciled', reconciledBefore + 1, 30_000).catch(() => undefined);
    return daemon.process.lines.filter((l) => l.message === 'reconciled')[reconciledBefore];
  };
  const line = await reconciledLine();
  const reconciledAt = line ? Date.parse(String(line.timestamp)) : undefined;
  const endedAt = Date.now();
  const cpuMs = {
    etcd: cpuOf(etcdProcess) - cpuBefore.etcd,
    bench: (() => {
      const u = process.cpuUsage(cpuBefore.bench);
      return (u.user + u.system) / 1000;
    })(),
    daemon: cpuOf(daemon.process.pid) - cpuBefore.daemon,
  };
  const reads = await probe.stop();

  const doneAts = refills.flatMap((r) => (r.doneAt === undefined ? [] : [r.doneAt - purgeAt]));
  const allBack = doneAts.length === refills.length && daemonKeysBackAt !== undefined;
  const lastBackAt = Math.max(...refills.map((r) => r.doneAt ?? Infinity), daemonKeysBackAt ?? Infinity);
  const counts = await hostCounts(client, layout, [...simulated.map((s) => s.host), HOST]);
  // The daemon's own count moves with the engine's other containers (a shared machine): it is back when all it had were seen back.
  const hostsConverged = counts.filter((n, i) => (i < simulated.length ? n >= spec.containers : daemonKeysBackAt !== undefined)).length;
  const keysAfter = await countKeys(client, layout.allPrefix);
  const lines = daemon.process.lines.slice(linesBefore);
  const healLine = lines.find((l) => typeof l.inMs === 'number');
  const requests = counter.between(purgeAt, reconciledAt ?? endedAt);
  const idleRequests = counter.between(idleFrom, purgeAt - 1);
  const backgroundRequests = Math.round((idleRequests / (purgeAt - idleFrom)) * ((reconciledAt ?? endedAt) - purgeAt));
  const failures = Object.fromEntries(FAILURE_KINDS.map((k) => [k, refills.reduce((n, r) => n + r.failures[k], 0)])) as Record<
    FailureKind,
    number
  >;
  const idle = probeFigures(reads, idleFrom, purgeAt);
  const during = probeFigures(reads, purgedAt, allBack ? lastBackAt : endedAt);
  const run: RefillRun = {
    schedule,
    claims,
    windowMs: schedule !== 'one-second' ? healWindowMs({ hosts: Math.max(1, refills[0]?.hostsCounted ?? 1), keysPerHost }) : windowMs,
    longestDelayMs: Math.max(...refills.map((r) => r.delayMs)),
    limitMs,
    purgeMs: purgedAt - purgeAt,
    purgeDeletions: deletions,
    convergedMs: allBack ? lastBackAt - purgeAt : undefined,
    hostsConverged,
    hosts: counts.length,
    keysBefore,
    keysAfter,
    simulated: {
      attempts: refills.reduce((n, r) => n + r.attempts, 0),
      hostsRetried: refills.filter((r) => r.attempts > 1).length,
      mostAttempts: Math.max(...refills.map((r) => r.attempts)),
      written: refills.reduce((n, r) => n + r.written, 0),
      failures,
      medianDoneMs: median(doneAts),
      lastDoneMs: doneAts.length ? Math.max(...doneAts) : undefined,
    },
    daemon: {
      neededWrites,
      requests,
      idleRequests,
      backgroundRequests,
      requestsPerWrite: Math.max(0, requests - backgroundRequests) / neededWrites,
      allRequestsPerWrite: requests / neededWrites,
      delayMs: healLine ? Number(healLine.inMs) : undefined,
      keysBackMs: daemonKeysBackAt === undefined ? undefined : daemonKeysBackAt - purgeAt,
      reconciledMs: reconciledAt === undefined ? undefined : reconciledAt - purgeAt,
      failedReconciliations: lines.filter((l) => l.message === 'reconcile failed; will retry').length,
      failedWrites: lines.filter((l) => l.message === 'write failed').length,
      connections: counter.connections,
    },
    probe: {
      idle,
      refill: during,
      p99Ratio: during.p99Ms / idle.p99Ms,
      slowest: reads
        .filter((r) => r.at >= purgedAt)
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 5)
        .map((r) => ({ afterPurgeMs: r.at - purgeAt, ms: Math.round(r.ms) })),
    },
    cpuMs,
    wallMs: endedAt - purgeAt,
  };
  say(`  ${describe(run)}`);
  return run;
}

const s = (ms: number | undefined) => (ms === undefined ? 'not within the bound' : `${(ms / 1000).toFixed(1)} s`);

/** A line per refill for the progress output. */
function describe(run: RefillRun): string {
  const failed = Object.entries(run.simulated.failures)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return (
    `all back after ${s(run.convergedMs)} (${run.hostsConverged} of ${run.hosts} hosts complete); ` +
    `simulated: ${run.simulated.written} entries written, ${run.simulated.hostsRetried} hosts retried, failures: ${failed.join(', ') || 'none'}; ` +
    `daemon: ${run.daemon.requests} requests (${run.daemon.backgroundRequests} of them its background) for ${run.daemon.neededWrites} entries (${run.daemon.requestsPerWrite.toFixed(2)} per write), ` +
    `keys back after ${s(run.daemon.keysBackMs)}; probe p99 ${run.probe.refill.p99Ms.toFixed(0)} ms (idle ${run.probe.idle.p99Ms.toFixed(0)} ms), max ${run.probe.refill.maxMs.toFixed(0)} ms; slowest reads at ${run.probe.slowest.map((r) => `${(r.afterPurgeMs / 1000).toFixed(1)} s (${r.ms} ms)`).join(', ')}`
  );
}
