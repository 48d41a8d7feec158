import type { Etcd3 } from 'etcd3';
import type { Config } from '../config/load';
import { etcdForUri } from '../etcd/client';
import type { Logger } from '../log';
import '../registrator/backends';
import { EtcdKvBackend } from '../registrator/etcd-kv-backend';
import { backendFactory, BackendContext } from '../registrator/registry';
import type { RegistryUri, Scheme } from '../registrator/uri';

/** The registries `ls` and `diff` read: those kept in etcd, where every read is a plain range read. */
const COVERED: readonly Scheme[] = ['hamesh', 'etcd', 'skydns2'];

/** Why the others are left out; docs/operations.md says the same. */
const NOT_COVERED = 'not covered: ls and diff read only the etcd-based registries (hamesh, etcd, skydns2)';

/** A registry URI as the operator commands see it: its backend made read-only, or why it is left out. */
export type OpsRegistry = { uri: RegistryUri; backend: EtcdKvBackend } | { uri: RegistryUri; notCovered: string };

/**
 * Makes a read-only backend for every covered URI, exactly as the daemon makes it (same factory,
 * same host, same etcd connection rule) but without a lease.
 */
export function openRegistries(config: Config, etcd: Etcd3, log: Logger): OpsRegistry[] {
  const context: BackendContext = {
    host: config.host,
    // The daemon's connection rule, so both read the same etcd.
    etcdFor: (uri) => etcdForUri(config.etcd, etcd, uri.authority),
    readOnly: true,
    requestReconcile: () => undefined,
    log,
  };
  return config.uris.map((uri) => {
    const factory = backendFactory(uri.scheme);
    if (!COVERED.includes(uri.scheme) || !factory) return { uri, notCovered: NOT_COVERED };
    const backend = factory(uri, context);
    if (backend instanceof EtcdKvBackend) return { uri, backend };
    void backend.close();
    return { uri, notCovered: NOT_COVERED };
  });
}

export async function closeRegistries(registries: readonly OpsRegistry[]): Promise<void> {
  await Promise.all(registries.map((r) => ('backend' in r ? r.backend.close() : undefined)));
}
