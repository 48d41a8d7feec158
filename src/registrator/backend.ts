import type { Etcd3 } from 'etcd3';
import type { KeyOp } from '../etcd/key-ops';
import type { Logger } from '../log';
import type { DaemonObserver } from '../observer';
import type { RegistrationBook } from './registration-book';
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

/** What a registry's records say this host holds: the services, and the records that hold none. */
export interface HostRecords {
  owned: OwnedService[];
  unreadable: UnreadableRecord[];
}

/**
 * Whether a registry takes a service: not its business at all (netfilter: a container without
 * IPv6), rejected with a reason (a warning naming the container), or taken, with what is odd about
 * it (metadata left out: a warning, the service still registers).
 */
export type Admission = { concerned: false } | { rejected: string } | { notes: string[] };

/** A registry as `registrator ls`, `diff` and `check` read it: kept in etcd, read key by key. */
export interface EtcdRegistryReader {
  /** The etcd it lives in (the daemon's, or the URI's own). */
  readonly etcd: Etcd3;
  /** Its scope in ownership records, e.g. `hamesh/mesh` (records: `/_registrator/owners/<host>/<scope>/`). */
  readonly scope: string;
  /** The keys one service is written as (without its ownership record). */
  keysOf(service: Service): string[];
  /** What carrying out a service writer's actions commits, leases aside (`registrator diff`). */
  actionOps(actions: readonly ServiceAction[]): KeyOp[];
  /** What `-cleanup`'s removal of dangling services would delete, read without writing. */
  danglingOps(keep: Service[]): Promise<{ ops: KeyOp[]; removed: string[] }>;
  /** Every service this host's records name, and how the registry holds it. */
  owned(): Promise<OwnedService[]>;
  close(): Promise<void>;
}

/**
 * A service registry, as gliderlabs/registrator's bridge sees one. Adding a registry is one file in
 * backends/ that exports its factory, and its row in schemes.ts. Every member is there for every
 * registry: an etcd-based one applies a container's changes in one transaction (EtcdKvBackend), the
 * others service by service (ServiceByServiceBackend).
 */
export interface Backend {
  /** The URI it was made from, for logs. */
  readonly description: string;
  /** What this host holds in the registry: filled by `load`, changed by `apply`, `clear` and `purge`. */
  readonly book: RegistrationBook;
  /**
   * The registry is this host's alone (a local ipset): after every reconciliation, `-cleanup` or
   * not, `removeDangling` removes whatever the daemon does not hold.
   */
  readonly exclusive: boolean;
  /** How `ls`, `diff` and `check` read it; null for a registry not kept in etcd. */
  readonly reader: EtcdRegistryReader | null;
  /** Resolves when the registry answers. */
  ping(): Promise<void>;
  /**
   * Every service this host owns in the registry, as recorded there (survives restarts and crashes),
   * and whether the registry still holds it as written (a purge or a hand edit may have removed it);
   * the book is filled from it.
   */
  load(): Promise<HostRecords>;
  /** Carries out one container's steps (register, rewrite, refresh, deregister), and books them. */
  apply(actions: readonly ServiceAction[]): Promise<void>;
  /** Whether the registry takes the service (see Admission). */
  admit(service: Service): Admission;
  /**
   * Whether the registry reports this service's Docker health itself (Consul's docker-health check):
   * then the service stays registered while its container runs, healthy or not, and a change of
   * health alone is a `refresh`, not a new registration.
   */
  followsDockerHealth(service: Service): boolean;
  /** Removes unreadable records, each only while it still holds the value read. */
  removeRecords(records: readonly UnreadableRecord[]): Promise<void>;
  /**
   * `-cleanup` (and, for an exclusive registry, every reconciliation): removes services this host's
   * default IDs (`<host>:...`) name but `keep` does not hold, e.g. left by another registrator that
   * kept no ownership records. Returns what it removed.
   */
  removeDangling(keep: Service[]): Promise<string[]>;
  /** SIGTERM: removes everything this host registered (an exclusive registry: everything in it). */
  clear(): Promise<void>;
  /** SIGUSR2: deletes every host's data of this registry, where the registry is purged at all. */
  purge(): Promise<void>;
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
