import type { Etcd3 } from 'etcd3';
import type { Config } from '../config/load';
import { claimKey, type ClaimRecord, parseClaim } from '../fleet/claim-record';
import { readHostEntries } from '../mirror/host-entries';
import { MirrorLayout } from '../mirror/keys';
import { listContainer, ListedContainer } from './mirror-listing';
import type { OpsRegistry } from './registries';
import { byText } from './text';

/**
 * A service a host owns in a registry, from its ownership record (`registrator ls`).
 * @public
 */
export interface ListedService {
  id: string;
  name: string;
  ip: string;
  port: number;
  tags: string[];
  containerId: string;
  containerName: string;
  /** Whether the registry holds the service's keys with the values written (else the daemon writes them again). */
  intact: boolean;
  /** Another registration with the same ID has written the keys since: it wins, this one stands by (docs/registrator.md). */
  takenOver: boolean;
}

/**
 * One registry's entry in `ls --json` (docs/operations.md).
 * @public
 */
export type RegistryListing =
  { registry: string; covered: true; services: ListedService[] } | { registry: string; covered: false; reason: string };

/**
 * The claim on a host name (docs/fleet.md): which daemon holds it, under which lease.
 * @public
 */
export interface ListedClaim {
  key: string;
  /** What the claim says; null when the key holds something else. */
  record: ClaimRecord | null;
  /** The lease holding it; `0`: none, so it never ends by itself (`registrator check` reports it). */
  lease: string;
}

/** `registrator ls --json`: what one host holds in etcd. Documented in docs/operations.md. */
export interface LsReport {
  host: string;
  /** The claim on the host name; null when no live daemon holds it. */
  claim: ListedClaim | null;
  /** null with --no-mirror. */
  mirror: { prefix: string; containers: ListedContainer[] } | null;
  /** One per registry URI, in the order given. */
  registries: RegistryListing[];
}

/** Reads (never writes) what `config.host` holds: its mirror entries and its services in each registry. */
export async function listHost(config: Config, etcd: Etcd3, registries: readonly OpsRegistry[]): Promise<LsReport> {
  const [claim, mirror, listings] = await Promise.all([
    readClaim(etcd, config.host),
    config.mirror ? listMirror(etcd, new MirrorLayout(config.etcd.dir), config.host) : null,
    Promise.all(registries.map(listRegistry)),
  ]);
  return { host: config.host, claim, mirror, registries: listings };
}

async function readClaim(etcd: Etcd3, host: string): Promise<ListedClaim | null> {
  const key = claimKey(host);
  const kv = (await etcd.kv.range({ key: Buffer.from(key) })).kvs[0];
  return kv ? { key, record: parseClaim(kv.value.toString()) ?? null, lease: String(kv.lease) } : null;
}

async function listMirror(etcd: Etcd3, layout: MirrorLayout, host: string): Promise<NonNullable<LsReport['mirror']>> {
  // The host's own keys only: its index records, hosts/<host>/, the entries they name and their labels/ keys.
  const { entries } = await readHostEntries(etcd, layout, host);
  const containers = [...entries].map(([id, keys]) => listContainer(id, keys, layout));
  containers.sort((a, b) => byText(a.name ?? '', b.name ?? '') || byText(a.id, b.id));
  return { prefix: layout.allPrefix, containers };
}

async function listRegistry(registry: OpsRegistry): Promise<RegistryListing> {
  if (!('backend' in registry)) return { registry: registry.uri.raw, covered: false, reason: registry.notCovered };
  const owned = await registry.backend.owned();
  const services = owned.map(({ service, intact, takenOver }) => ({
    id: service.id,
    name: service.name,
    ip: service.ip,
    port: service.port,
    tags: service.tags,
    containerId: service.origin.containerId,
    containerName: service.origin.containerName,
    intact,
    takenOver: takenOver ?? false,
  }));
  services.sort((a, b) => byText(a.id, b.id));
  return { registry: registry.uri.raw, covered: true, services };
}
