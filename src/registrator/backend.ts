import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log';
import type { DaemonObserver } from '../observer';
import type { Service, ServiceAction } from './service';
import type { RegistryUri } from './uri';

export interface OwnedService {
  service: Service;
  /** False when the registry no longer holds the service's keys as written: it must be written again. */
  intact: boolean;
  /**
   * Another registration (another container or host with the same service ID) has written the
   * service's keys since this host did: the later registration wins, and this one stands by,
   * unwritten, until the winner is removed (docs/registrator.md). Only etcd-based registries know.
   */
  takenOver?: boolean;
}

/** An ownership record that is not a service this host can read: skipped, and removed at the next reconciliation. */
export interface UnreadableRecord {
  key: string;
  value: string;
}

/**
 * A service registry, as gliderlabs/registrator's bridge sees one: register, deregister, refresh,
 * ping. Adding a registry is one file in backends/ that exports its factory, and its row in schemes.ts.
 */
export interface Backend {
  /** The URI it was made from, for logs. */
  readonly description: string;
  /** Resolves when the registry answers. */
  ping(): Promise<void>;
  /** Writes (or overwrites) one service, and records that this host owns it. */
  register(service: Service): Promise<void>;
  /**
   * Carries out one container's steps at once, where the registry can (etcd: one transaction, so a
   * consumer never sees a changed service missing or half written). Without it, the steps are
   * taken one by one through register/deregister/refresh.
   */
  apply?(actions: readonly ServiceAction[]): Promise<void>;
  /** Records `owned` could not read (not a service); the service writer warns and removes them. */
  unreadableRecords?(): readonly UnreadableRecord[];
  /** Removes unreadable records, each only while it still holds the value read. */
  removeRecords?(records: readonly UnreadableRecord[]): Promise<void>;
  /** Removes one service this host registered, and its ownership record. */
  deregister(service: Service): Promise<void>;
  /** Renews a service's time to live; a registry without TTLs writes it again. */
  refresh(service: Service): Promise<void>;
  /**
   * Every service this host owns in the registry, as recorded there (survives restarts and crashes),
   * and whether the registry still holds it as written (a purge or a hand edit may have removed it).
   */
  owned(): Promise<OwnedService[]>;
  /**
   * Whether the registry reports this service's Docker health itself (Consul's docker-health check):
   * then the service stays registered while its container runs, healthy or not, and a change of
   * health alone is a `refresh`, not a new registration.
   */
  followsDockerHealth?(service: Service): boolean;
  /** Whether the service is any of this registry's business (netfilter: only containers with IPv6); default yes. */
  concerns?(service: Service): boolean;
  /** Why this registry cannot take the service (a warning naming the container), or undefined. */
  reject?(service: Service): string | undefined;
  /** What is odd about a service it takes (metadata left out): a warning naming the container, the service still registers. */
  notes?(service: Service): string[];
  /**
   * `-cleanup`: removes services this host's default IDs (`<host>:...`) name but `keep` does not
   * hold, e.g. left by another registrator that kept no ownership records. Returns what it removed.
   */
  removeDangling?(keep: Service[]): Promise<string[]>;
  /**
   * The registry is this host's alone (a local ipset): after every reconciliation, `-cleanup` or
   * not, `removeDangling` removes whatever the daemon does not hold.
   */
  readonly exclusive?: boolean;
  /** SIGTERM: removes everything this host registered at once (an exclusive registry: everything in it). */
  clear?(): Promise<void>;
  /** SIGUSR2: deletes every host's data of this registry, where the registry is purged at all. */
  purge?(): Promise<void>;
  /** Closes connections the backend opened itself. */
  close(): Promise<void>;
}

/** What a backend factory gets from the daemon (or from a read-only command). */
export interface BackendContext {
  /** The daemon's host name. */
  host: string;
  /** etcd client for this URI: the daemon's shared one when the URI has no host, else its own. */
  etcdFor(uri: RegistryUri): { client: Etcd3; shared: boolean };
  /** `-ttl` / `-ttl-refresh` in seconds, when registrations are held by a lease. */
  ttl?: { ttlSeconds: number; refreshSeconds: number };
  /**
   * Made for a read-only command (`registrator ls`, `diff`): the backend takes no lease and does not
   * hold a key's lease against it. Only the etcd-based backends are made that way.
   */
  readOnly?: boolean;
  /** Asks the daemon for a reconciliation, e.g. after a lost lease took the registry's keys. */
  requestReconcile(reason: string): void;
  /** Self-healing: told when keys this host holds were deleted behind its back; absent, nothing is watched. */
  onVanished?(reason: string): void;
  /** Told about a backend's state, e.g. whether its lease is held (metrics); optional. */
  observer?: DaemonObserver;
  log: Logger;
}

/** Makes the backend of one registry URI; each file in backends/ exports one. */
export type BackendFactory = (uri: RegistryUri, context: BackendContext) => Backend;
