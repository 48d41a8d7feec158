import type { Etcd3 } from 'etcd3';
import type { Config } from './config/load';
import type { DaemonRequests } from './daemon';
import { etcdForUri } from './etcd/client';
import type { Logger } from './log';
import { MirrorWriter } from './mirror/writer';
import type { DaemonObserver } from './observer';
import type { Backend, BackendContext, BackendFactory } from './registrator/backend';
import { type HostAddresses, resolveHostAddresses } from './registrator/host-address';
import { loadBackendFactories } from './registrator/schemes';
import { serviceWriterName, ServiceWriter, type ServiceWriterOptions } from './registrator/service-writer';
import type { RegistryUri, Scheme } from './registrator/uri';
import type { Writer } from './writer';

/** What the backends are made with. */
export interface BackendDeps {
  /** The daemon's etcd client, shared by the mirror and every etcd-based URI without a host of its own. */
  etcd: Etcd3;
  /** The factories of the URIs' schemes (loadBackendFactories); a URI whose scheme is not among them gets no backend. */
  factories: ReadonlyMap<Scheme, BackendFactory>;
  /**
   * What the writers ask of the daemon: a reconciliation (a lost lease) and, under `-self-heal`, a
   * heal (this host's keys deleted behind its back). Absent, the writers are made for a read-only
   * command (`ls`, `diff`, `check`): no lease, no watch, nothing to ask.
   */
  requests?: DaemonRequests;
  /** Told about the backends' state (leases held); optional. */
  observer?: DaemonObserver;
  log: Logger;
}

export interface WriterDeps extends BackendDeps {
  /** This host's addresses for ports published on every address (loadRegistryParts). */
  hostAddresses: HostAddresses;
}

/** The backend made for one registry URI. */
export interface RegistryBackend {
  /** One of the configuration's URIs, as given. */
  uri: RegistryUri;
  backend: Backend;
}

interface RegistryWriter extends RegistryBackend {
  writer: ServiceWriter;
}

/** This host's writers: the mirror and one per registry URI. */
export interface HostWriters {
  /** Absent under `--no-mirror`. */
  mirror?: MirrorWriter;
  /** In the order the URIs were given. */
  registries: RegistryWriter[];
  /** The mirror first, then the registries: the list the daemon keeps in step. */
  writers: Writer[];
  /** Closes the connections the backends opened themselves. */
  close(): Promise<void>;
}

/**
 * What making the registries' writers takes I/O to learn, learnt beforehand so that the writers
 * themselves are made at once: the factories of the URIs' schemes (their modules loaded) and, when
 * there is a URI at all, this host's addresses.
 */
export async function loadRegistryParts(
  config: Config,
  uris: readonly RegistryUri[],
  log: Logger,
): Promise<Pick<WriterDeps, 'factories' | 'hostAddresses'>> {
  const factories = await loadBackendFactories(uris.map((u) => u.scheme));
  const hostAddresses = uris.length > 0 ? await resolveHostAddresses(config.ip, config.host, log) : { wildcard: '', ipv6: '' };
  return { factories, hostAddresses };
}

/** One backend per registry URI of the configuration whose factory is given, in the order given. */
export function openBackends(config: Config, deps: BackendDeps): RegistryBackend[] {
  const { requests } = deps;
  const context: BackendContext = {
    host: config.host,
    // One connection rule for the daemon and the read-only commands, so both read the same etcd.
    etcdFor: (uri) => etcdForUri(config.etcd, deps.etcd, uri.authority),
    ttl: config.ttl > 0 ? { ttlSeconds: config.ttl, refreshSeconds: config.ttlRefresh } : undefined,
    readOnly: requests ? undefined : true,
    requestReconcile: requests ? (reason) => requests.reconcile(reason) : () => undefined,
    onVanished: requests && config.selfHeal ? (reason) => requests.heal(reason) : undefined,
    observer: deps.observer,
    log: deps.log,
  };
  return config.uris.flatMap((uri) => {
    const factory = deps.factories.get(uri.scheme);
    return factory ? [{ uri, backend: factory(uri, context) }] : [];
  });
}

/**
 * The mirror writer (unless `--no-mirror`) and one ServiceWriter per registry URI whose factory
 * is given: the daemon's writers, and, without `requests`, the same writers for `registrator diff`.
 */
export function createWriters(config: Config, deps: WriterDeps): HostWriters {
  const { requests, log } = deps;
  // Self-healing: a writer that sees this host's keys deleted behind its back asks for them back.
  const onVanished = requests && config.selfHeal ? (reason: string) => requests.heal(reason) : undefined;
  const mirror = config.mirror
    ? new MirrorWriter(deps.etcd, { dir: config.etcd.dir, host: config.host, onVanished }, log.child({ component: 'writer.mirror' }))
    : undefined;
  const registries = openBackends(config, deps).map(({ uri, backend }) => {
    const name = serviceWriterName(config.uris, config.uris.indexOf(uri));
    const options = serviceWriterOptions(config, deps.hostAddresses);
    const writer = new ServiceWriter(backend, options, log.child({ component: name, registry: uri.raw }), name);
    return { uri, backend, writer };
  });
  return {
    mirror,
    registries,
    writers: [...(mirror ? [mirror] : []), ...registries.map((r) => r.writer)],
    close: async () => {
      await Promise.all(registries.map((r) => r.backend.close().catch(() => undefined)));
    },
  };
}

/** The writer options the configuration gives, with the host's resolved addresses for wildcard (`0.0.0.0`) and `::` bindings. */
export function serviceWriterOptions(config: Config, addresses: HostAddresses): ServiceWriterOptions {
  return {
    deregister: config.deregister,
    cleanup: config.cleanup,
    model: {
      host: config.host,
      hostIp: addresses.wildcard,
      hostIpv6: addresses.ipv6,
      internal: config.internal,
      explicit: config.explicit,
      tags: config.tags,
      useIpFromLabel: config.useIpFromLabel,
      ttl: config.ttl,
      // Given only when set: at their defaults the model behaves as gliderlabs' did.
      ...(config.network ? { network: config.network } : {}),
      ...(config.nameFrom !== 'image' ? { nameFrom: config.nameFrom } : {}),
    },
  };
}
