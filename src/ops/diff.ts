import type { Etcd3 } from 'etcd3';
import type { Config } from '../config/load';
import type { ContainerState } from '../docker/container';
import type { ContainerEngine } from '../docker/engine';
import { keyChanges, KeyChange, readTouchedKeys } from '../etcd/changes';
import type { KeyOp } from '../etcd/key-ops';
import type { ServiceAction } from '../registrator/service';
import type { HostWriters } from '../writers';
import { DockerReadError } from './errors';
import { NOT_COVERED } from './registries';
import { byText } from './text';

/**
 * A key a writer would put: new (`previous` null) or changed.
 * @public
 */
export interface PlannedPut {
  key: string;
  value: string;
  previous: string | null;
}

/**
 * A key a writer would delete, with the value it holds now.
 * @public
 */
export interface PlannedDelete {
  key: string;
  previous: string;
}

/**
 * What would happen to one service: `register` (new), `update` (changed: its old form is removed),
 * `rewrite` (unchanged, but its keys are not as written), `refresh` (health only), `deregister`.
 * @public
 */
export type ServiceChange = 'register' | 'update' | 'rewrite' | 'refresh' | 'deregister';

/**
 * A service in `diff --json` (docs/operations.md).
 * @public
 */
export interface PlannedService {
  id: string;
  name: string;
  containerId: string;
  change: ServiceChange;
}

/**
 * One writer's entry in `diff --json` (docs/operations.md).
 * @public
 */
export type WriterDiff =
  | {
      /** `mirror`, or the registry URI as given. */
      writer: string;
      covered: true;
      /** Registries only: the services whose registration would change, by id. */
      services?: PlannedService[];
      put: PlannedPut[];
      delete: PlannedDelete[];
      /** Services this registry would skip, and why (as the daemon logs them). */
      warnings: string[];
    }
  | { writer: string; covered: false; reason: string };

/** `registrator diff --json`: what the next reconciliation would write. Documented in docs/operations.md. */
export interface DiffReport {
  host: string;
  /** The mirror first (unless --no-mirror), then one per registry URI in the order given. */
  writers: WriterDiff[];
  /** Keys that would be put or deleted, over every covered writer; 0 means in step. */
  changes: number;
}

function keyLists(changes: readonly KeyChange[]): Pick<Extract<WriterDiff, { covered: true }>, 'put' | 'delete'> {
  return {
    put: changes.flatMap((c) => (c.after === null ? [] : [{ key: c.key, value: c.after, previous: c.before }])),
    delete: changes.flatMap((c) => (c.after === null && c.before !== null ? [{ key: c.key, previous: c.before }] : [])),
  };
}

/** One line per service from a writer's actions; a deregistration followed by a registration is an update. */
function serviceChanges(actions: readonly ServiceAction[]): PlannedService[] {
  const byId = new Map<string, PlannedService>();
  for (const { kind, service } of actions) {
    const earlier = byId.get(service.id);
    const change: ServiceChange = kind === 'register' && earlier?.change === 'deregister' ? 'update' : kind;
    byId.set(service.id, { id: service.id, name: service.name, containerId: service.origin.containerId, change });
  }
  return [...byId.values()].sort((a, b) => byText(a.id, b.id));
}

async function changesIn(etcd: Etcd3, ops: readonly KeyOp[]): Promise<KeyChange[]> {
  const { current, revisions } = await readTouchedKeys(etcd, ops);
  return keyChanges(ops, current, revisions);
}

/**
 * Works out, without writing, what the daemon's next reconciliation would do: the same writers
 * (createWriters, over read-only backends of the covered URIs) load what this host holds, the same
 * containers are inspected (every running one and every held one), and each writer plans its sync
 * of each; the plans are then read against etcd key by key. Docker is only listed and inspected;
 * etcd is only read.
 */
export async function planHost(config: Config, engine: ContainerEngine, etcd: Etcd3, hostWriters: HostWriters): Promise<DiffReport> {
  const { mirror, writers } = hostWriters;
  await Promise.all(writers.map((w) => w.loadHeld()));
  const unreadable = (err: unknown): never => {
    throw new DockerReadError(err);
  };
  const ids = new Set(await engine.list().catch(unreadable));
  for (const writer of writers) for (const id of writer.heldIds()) ids.add(id);
  const states: ContainerState[] = await Promise.all([...ids].sort(byText).map((id) => engine.inspect(id).catch(unreadable)));

  const report: WriterDiff[] = [];
  if (mirror) {
    const ops = (await Promise.all(states.map((state) => mirror.plan(state)))).flat();
    report.push({ writer: 'mirror', covered: true, ...keyLists(await changesIn(etcd, ops)), warnings: [] });
  }
  for (const uri of config.uris) {
    const registry = hostWriters.registries.find((r) => r.uri === uri);
    const backend = registry?.backend.reader;
    if (!registry || !backend) {
      report.push({ writer: uri.raw, covered: false, reason: NOT_COVERED });
      continue;
    }
    const { writer } = registry;
    const plans = new Map(states.map((state) => [state.id, writer.plan(state)]));
    // The syncs, then what -cleanup does after them: deregister kept containers, remove this host's dangling services.
    const cleanup = writer.planCleanup(plans);
    const actions = [...[...plans.values()].flatMap((p) => p.actions), ...cleanup];
    // Each container's steps are one transaction, as the writer commits them.
    const ops = [...[...plans.values()].flatMap((p) => backend.actionOps(p.actions)), ...backend.actionOps(cleanup)];
    if (config.cleanup) ops.push(...(await backend.danglingOps([...plans.values()].flatMap((p) => p.wanted))).ops);
    const warnings = [...plans.values()].flatMap((p) => p.warnings ?? []);
    const keys = keyLists(await changesIn(backend.etcd, ops));
    report.push({ writer: uri.raw, covered: true, services: serviceChanges(actions), ...keys, warnings });
  }
  const changes = report.reduce((n, w) => n + (w.covered ? w.put.length + w.delete.length : 0), 0);
  return { host: config.host, writers: report, changes };
}
