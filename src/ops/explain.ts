import type { Etcd3 } from 'etcd3';
import type { Config } from '../config/load';
import { type ContainerState, inactiveReason } from '../docker/container';
import type { DockerEngine } from '../docker/engine';
import { claimKey, describeClaim, parseClaim, type ClaimRecord } from '../fleet/claim-record';
import type { Logger } from '../log';
import { MirrorLayout, wantedEntry } from '../mirror/keys';
import { hameshClaims, judgeClaims, readFiledClaims } from '../hamesh/port-claims';
import { hostPort } from '../registrator/address';
import { resolveHostAddresses } from '../registrator/host-address';
import type { Service } from '../registrator/service';
import { containerServices } from '../registrator/service-model';
import type { HostWriters } from '../writers';
import { serviceWriterOptions } from '../writers';
import { DockerReadError } from './errors';
import { leftOutOfPlan, warningAsLeftOut, type LeftOut } from './left-out';
import { byText } from './text';

/**
 * A service a registry would hold for the container.
 * @public
 */
export interface ExplainedService {
  id: string;
  name: string;
  /** `ip:port` as registered. */
  address: string;
  /** `register`, `update`, `rewrite`, `refresh` from the plan; `in step` when held as it is; `would register` where what is held is not read. */
  change: string;
}

/**
 * One writer's entry in `explain --json` (docs/operations.md).
 * @public
 */
export type ExplainedWriter =
  | {
      writer: 'mirror';
      /** The keys of the container's entry, as written. */
      entry: Array<{ key: string; value: string }>;
      /** Keys to put or delete to bring etcd in step with `entry`. */
      changes: number;
      leftOut: LeftOut[];
    }
  | {
      /** The registry URI as given. */
      writer: string;
      /** Whether what the registry holds was read (etcd-based registries); otherwise `services` is what it would be asked to register. */
      read: boolean;
      services: ExplainedService[];
      /** Services held for the container that would be deregistered. */
      deregister: string[];
      leftOut: LeftOut[];
      /** Metadata the registry leaves out of registered services. */
      notes: string[];
    };

/** `registrator explain --json`. Documented in docs/operations.md. */
export interface ExplainReport {
  host: string;
  /** Who holds this host name: nobody, a daemon of this engine, or another daemon (which then writes instead). */
  claim: { state: 'free' | 'this engine' | 'another daemon'; holder?: ClaimRecord };
  container: { id: string; name: string; running: boolean; health?: string };
  writers: ExplainedWriter[];
}

/** The container named on the command line was not found on the engine (exit 1). */
export class NoSuchContainer extends Error {
  override readonly name = 'NoSuchContainer';
}

/** `ip:port` as the registries write it. */
const address = (s: Service): string => hostPort(s.ip, s.port);

/**
 * Explains one container (name or ID): for every writer, what it would write for it and why the
 * rest is left out, from the daemon's own planners over read-only writers (as `registrator diff`).
 * Reads Docker (inspect, info) and etcd only.
 */
export async function explainContainer(
  config: Config,
  engine: DockerEngine,
  etcd: Etcd3,
  hostWriters: HostWriters,
  ref: string,
  log: Logger,
): Promise<ExplainReport> {
  const unreadable = (err: unknown): never => {
    throw new DockerReadError(err);
  };
  const found = (await engine.inspect(ref).catch(unreadable)).container;
  if (!found) throw new NoSuchContainer(`no container ${JSON.stringify(ref)} on this engine`);
  const state: ContainerState = { id: found.id, container: found };
  const name = found.name || state.id.slice(0, 12);
  const shortId = state.id.slice(0, 12);
  const { running, health, active } = found.state;
  const container = { id: state.id, name, running, ...(health ? { health } : {}) };

  const engineId = (await engine.identity().catch(unreadable)).id;
  const claimValue = await etcd.get(claimKey(config.host)).string();
  const holder = claimValue === null ? undefined : parseClaim(claimValue);
  const claim: ExplainReport['claim'] =
    claimValue === null
      ? { state: 'free' }
      : holder && holder.engine.id === engineId
        ? { state: 'this engine', holder }
        : { state: 'another daemon', ...(holder ? { holder } : {}) };
  const claimed: LeftOut[] =
    claim.state === 'another daemon'
      ? [
          {
            what: 'everything',
            reason: `host name ${config.host} is claimed by another daemon (${holder ? describeClaim(holder) : 'a claim that is not readable'}); this daemon would write nothing`,
          },
        ]
      : [];
  const inactive = inactiveReason(found);

  const writers: ExplainedWriter[] = [];
  const { mirror } = hostWriters;
  if (mirror) {
    await mirror.loadHeld();
    const wanted = active ? wantedEntry(found, config.host, new MirrorLayout(config.etcd.dir)) : undefined;
    const leftOut: LeftOut[] = [...claimed];
    if (inactive) leftOut.push({ what: 'mirror entry', reason: inactive });
    if (wanted && !wanted.entry) leftOut.push({ what: 'mirror entry', reason: wanted.skipped });
    for (const w of wanted?.warnings ?? []) leftOut.push(warningAsLeftOut(w, name, shortId));
    const entry = [...(wanted?.entry ?? [])].map(([key, value]) => ({ key, value })).sort((a, b) => byText(a.key, b.key));
    writers.push({ writer: 'mirror', entry, changes: (await mirror.plan(state)).length, leftOut });
  }
  const model =
    config.uris.length > 0 ? serviceWriterOptions(config, await resolveHostAddresses(config.ip, config.host, log)).model : undefined;
  for (const uri of config.uris) {
    const registry = hostWriters.registries.find((r) => r.uri === uri);
    if (registry) {
      await registry.writer.loadHeld();
      const plan = registry.writer.plan(state);
      const changes = new Map(plan.actions.map((a) => [a.service.id, a.kind as string]));
      const deregister = plan.actions.flatMap((a) =>
        a.kind === 'deregister' && !plan.wanted.some((s) => s.id === a.service.id) ? [a.service.id] : [],
      );
      const services = plan.wanted.map((s) => ({ id: s.id, name: s.name, address: address(s), change: changes.get(s.id) ?? 'in step' }));
      const leftOut = [...claimed, ...leftOutOfPlan(plan, name, shortId)];
      const reader = registry.backend.reader;
      if (uri.scheme === 'hamesh' && reader) leftOut.push(...(await lostPortClaims(reader.etcd, uri.path, plan.wanted)));
      if (plan.kept)
        leftOut.push({ what: 'container', reason: 'exited with an error under -deregister on-success: its services are kept as they are' });
      for (const s of plan.standby ?? [])
        leftOut.push({ what: `service ${s.id}`, reason: 'another task of its Swarm service on this host holds it' });
      writers.push({ writer: uri.raw, read: true, services, deregister, leftOut, notes: plan.notes ?? [] });
      continue;
    }
    // consul and netfilter: not read; the services the model gives are what the daemon would ask it to register.
    const result = running ? containerServices(found, model!) : { services: [], warnings: [], leftOut: [] };
    const leftOut = [...claimed, ...leftOutOfPlan(result, name, shortId)];
    const services = active ? result.services : [];
    if (!active && inactive) leftOut.push({ what: 'container', reason: inactive });
    writers.push({
      writer: uri.raw,
      read: false,
      services: services.map((s) => ({ id: s.id, name: s.name, address: address(s), change: 'would register' })),
      deregister: [],
      leftOut,
      notes: [],
    });
  }
  return { host: config.host, claim, container, writers };
}

/**
 * hamesh ports (SERVICE_EXTERNAL_PORT, SERVICE_INTERNAL_PORT) another service holds, judged as the
 * daemon judges them (hamesh/port-claims.ts): the others are registered without the port.
 */
async function lostPortClaims(etcd: Etcd3, prefix: string, services: readonly Service[]): Promise<LeftOut[]> {
  const claims = services.flatMap((service) => hameshClaims(prefix, service).map((claim) => ({ claim, service })));
  if (claims.length === 0) return [];
  const all = claims.map((c) => c.claim);
  const verdicts = judgeClaims(all, await readFiledClaims(etcd, all));
  return claims.flatMap(({ claim, service }) => {
    const { wins, holder } = verdicts.get(claim.key)!;
    return wins ? [] : [{ what: `service ${service.id}`, reason: `${claim.what} is claimed by service ${holder}: registered without it` }];
  });
}
