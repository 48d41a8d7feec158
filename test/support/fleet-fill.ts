import { createHash } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { KeyOp, toRequestOp } from '../../src/etcd/key-ops';
import { MirrorLayout, mirrorEntry } from '../../src/mirror/keys';
import type { BackendFactory } from '../../src/registrator/backend';
import { createEtcdBackend } from '../../src/registrator/backends/etcd';
import { createHameshBackend } from '../../src/registrator/backends/hamesh';
import { createSkydns2Backend } from '../../src/registrator/backends/skydns2';
import { EtcdKvBackend } from '../../src/registrator/etcd-kv-backend';
import { containerServices } from '../../src/registrator/service-model';
import { parseRegistryUri } from '../../src/registrator/schemes';
import { inspect } from '../fixtures/inspect';
import { silentLogger } from './log';

/**
 * A simulated fleet: the data that `hosts` other Docker hosts' daemons, each with `containers`
 * containers, keep in one etcd. Nothing runs: the keys are built by the product's own key
 * builders from synthetic inspect results, exactly as those daemons would write them.
 */
export interface SimulatedFleet {
  hosts: number;
  containers: number;
  /** Host names are `<prefix><n>` (default `sim`); give each fill in one etcd its own. */
  prefix?: string;
  /** Mirror prefix (default `registry`). */
  dir?: string;
  /** Registry URIs each simulated host also writes (hamesh://, etcd://, skydns2:// without a host), with ownership records. */
  uris?: string[];
  /** `false`: leave the mirror entries out, to add registrations to a fleet whose mirror entries are already in (default true). */
  mirror?: boolean;
}

/** The etcd-based backends: the only registries a fleet in etcd can hold. */
const ETCD_BASED: Record<string, BackendFactory> = { hamesh: createHameshBackend, etcd: createEtcdBackend, skydns2: createSkydns2Backend };

/** Puts per transaction and transactions in flight while filling (TESTING.md). */
const FILL_TXN_PUTS = 120;
const FILL_IN_FLIGHT = 16;

export function simulatedHost(fleet: SimulatedFleet, h: number): string {
  return `${fleet.prefix ?? 'sim'}${String(h).padStart(4, '0')}`;
}

/** One simulated container: published tcp port 80, two labels, an address on the default bridge. */
export function simulatedContainer(fleet: SimulatedFleet, h: number, c: number): ContainerInfo {
  const host = simulatedHost(fleet, h);
  return inspect({
    Id: createHash('sha256').update(`${host}/${c}`).digest('hex'),
    Name: `/c${String(c).padStart(4, '0')}`,
    Labels: { 'fleet.host': host, app: 'sim' },
    ExposedPorts: { '80/tcp': {} },
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(30000 + c) }] },
    IPAddress: `172.${16 + (h >> 8)}.${h & 255}.${(c % 250) + 2}`,
    Env: ['SERVICE_NAME=sim'],
  });
}

/** Every key and value the simulated fleet holds, host by host, container by container. */
export function* simulatedKeys(fleet: SimulatedFleet): Generator<[string, string]> {
  const layout = new MirrorLayout(fleet.dir ?? 'registry');
  const uris = (fleet.uris ?? []).map(parseRegistryUri);
  for (let h = 0; h < fleet.hosts; h++) {
    const host = simulatedHost(fleet, h);
    const backends = uris.map((uri) => {
      const backend = ETCD_BASED[uri.scheme]?.(uri, {
        host,
        etcdFor: () => ({ client: undefined as unknown as Etcd3, shared: true }),
        readOnly: true,
        requestReconcile: () => undefined,
        log: silentLogger,
      });
      if (!(backend instanceof EtcdKvBackend)) throw new Error(`${uri.raw}: only etcd-based registries can be simulated`);
      return backend;
    });
    const hostIp = `10.99.${h >> 8}.${h & 255}`;
    for (let c = 0; c < fleet.containers; c++) {
      const container = parseContainer(simulatedContainer(fleet, h, c));
      if (fleet.mirror !== false) yield* mirrorEntry(container, host, layout);
      if (backends.length === 0) continue;
      const { services } = containerServices(container, {
        host,
        hostIp,
        internal: false,
        explicit: false,
        tags: '',
        useIpFromLabel: '',
        ttl: 0,
      });
      for (const backend of backends)
        for (const service of services) for (const op of backend.registerOps(service)) if ('put' in op) yield [op.put, op.value];
    }
  }
}

/**
 * Writes the simulated fleet into etcd (transactions of 120 puts, 16 in flight) and resolves with
 * the number of keys written. Start that etcd with room for it (`EtcdServer.start({ quotaBytes })`):
 * 1,000 hosts x 100 containers are 1.7 M keys.
 */
export async function fillFleet(client: Etcd3, fleet: SimulatedFleet): Promise<number> {
  let written = 0;
  const inFlight = new Set<Promise<void>>();
  let batch: KeyOp[] = [];
  const send = async (ops: KeyOp[]) => {
    const sent = client.kv.txn({ success: ops.map(toRequestOp) }).then(() => undefined);
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => undefined);
    if (inFlight.size >= FILL_IN_FLIGHT) await Promise.race(inFlight);
  };
  for (const [key, value] of simulatedKeys(fleet)) {
    batch.push({ put: key, value });
    written++;
    if (batch.length === FILL_TXN_PUTS) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await send(batch);
  await Promise.all(inFlight);
  return written;
}
