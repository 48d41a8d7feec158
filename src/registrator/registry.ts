import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log';
import type { DaemonObserver } from '../observer';
import type { Backend } from './backend';
import type { RegistryUri, Scheme } from './uri';

/** What a backend factory gets from the daemon. */
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

export type BackendFactory = (uri: RegistryUri, context: BackendContext) => Backend;

const factories = new Map<Scheme, BackendFactory>();

/** Called once by each file in backends/. */
export function registerBackend(scheme: Scheme, factory: BackendFactory): void {
  factories.set(scheme, factory);
}

export function backendFactory(scheme: Scheme): BackendFactory | undefined {
  return factories.get(scheme);
}
