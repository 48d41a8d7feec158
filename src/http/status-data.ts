import type { ClaimStatus } from '../fleet/host-claim';
import type { MirrorWriter } from '../mirror/writer';
import type { DaemonStatus, WriterState } from '../observer';
import { leftOutOfPlan, type LeftOut } from '../ops/left-out';
import { byText } from '../ops/text';
import { hostPort } from '../registrator/address';
import type { Service } from '../registrator/service';
import type { ServiceWriter } from '../registrator/service-writer';

/** `GET /status.json`: what the daemon holds now. Documented in docs/operations.md. */
export interface StatusData {
  host: string;
  /** The claim on this host name; absent when the daemon has none (no writer in its etcd). */
  claim?: ClaimStatus;
  docker: 'connected' | 'disconnected';
  writers: Array<{ name: string; state: WriterState; containersHeld: number }>;
  /** Whether the mirror is written (not --no-mirror), and the registry URIs in order: the columns of `containers`. */
  mirror: boolean;
  registries: string[];
  /** By container name. */
  containers: StatusContainer[];
}

/**
 * One container on the status page, in `/status.json` (docs/operations.md).
 * @public
 */
export interface StatusContainer {
  id: string;
  name: string;
  /** The mirror's entry as held (absent under --no-mirror). */
  mirror?: { entry: Array<{ key: string; value: string }>; leftOut: LeftOut[] };
  registries: Array<{ registry: string; services: Array<{ id: string; name: string; address: string }>; leftOut: LeftOut[] }>;
}

/** What the status page reads: the daemon's status and its writers' held data, never etcd. */
export interface StatusSource {
  host: string;
  status(): DaemonStatus;
  mirror?: Pick<MirrorWriter, 'statusView' | 'layout'>;
  registries: ReadonlyArray<{ uri: string; writer: Pick<ServiceWriter, 'statusView'> }>;
}

const address = (s: Service): string => hostPort(s.ip, s.port);

/** Builds the status data from what the writers hold and their last plans. No I/O. */
export function statusData(source: StatusSource): StatusData {
  const status = source.status();
  const byId = new Map<string, StatusContainer>();
  const container = (id: string): StatusContainer => {
    let c = byId.get(id);
    if (!c) byId.set(id, (c = { id, name: '', registries: [] }));
    return c;
  };
  if (source.mirror) {
    const nameKey = (id: string) => `${source.mirror!.layout.container(id)}name`;
    for (const { containerId, entry, leftOut } of source.mirror.statusView()) {
      const c = container(containerId);
      c.name ||= entry.get(nameKey(containerId)) ?? '';
      c.mirror = {
        entry: [...entry].map(([key, value]) => ({ key, value })).sort((a, b) => byText(a.key, b.key)),
        leftOut: leftOut ? [{ what: 'mirror entry', reason: leftOut }] : [],
      };
    }
  }
  source.registries.forEach(({ uri, writer }, i) => {
    for (const { containerId, held, last } of writer.statusView()) {
      const c = container(containerId);
      c.name ||= last?.name ?? held[0]?.origin.containerName ?? '';
      while (c.registries.length < i)
        c.registries.push({ registry: source.registries[c.registries.length].uri, services: [], leftOut: [] });
      const services = held.map((s) => ({ id: s.id, name: s.name, address: address(s) })).sort((a, b) => byText(a.id, b.id));
      const leftOut = last ? leftOutOfPlan(last.plan, last.name, containerId.slice(0, 12)) : [];
      c.registries.push({ registry: uri, services, leftOut });
    }
  });
  for (const c of byId.values()) {
    c.name ||= c.id.slice(0, 12);
    while (c.registries.length < source.registries.length)
      c.registries.push({ registry: source.registries[c.registries.length].uri, services: [], leftOut: [] });
  }
  return {
    host: source.host,
    ...(status.hostClaim ? { claim: status.hostClaim } : {}),
    docker: status.dockerConnected ? 'connected' : 'disconnected',
    writers: status.writers,
    mirror: source.mirror !== undefined,
    registries: source.registries.map((r) => r.uri),
    containers: [...byId.values()].sort((a, b) => byText(a.name, b.name) || byText(a.id, b.id)),
  };
}
