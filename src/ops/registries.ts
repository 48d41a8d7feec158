import type { Etcd3 } from 'etcd3';
import type { Config } from '../config/load';
import type { Logger } from '../log';
import type { EtcdRegistryReader } from '../registrator/backend';
import { KNOWN_SCHEMES, loadBackendFactories, schemeSpec } from '../registrator/schemes';
import type { RegistryUri } from '../registrator/uri';
import { openBackends } from '../writers';

/** The schemes `ls`, `diff` and `check` read: those kept in etcd, where every read is a plain range read. */
const COVERED = KNOWN_SCHEMES.filter((scheme) => schemeSpec(scheme).opsCovered);

/** Why the others are left out; docs/operations.md says the same. */
export const NOT_COVERED = `not covered: ls and diff read only the etcd-based registries (${COVERED.join(', ')})`;

/** A registry URI as the operator commands see it: its backend made read-only, read through its reader, or why it is left out. */
export type OpsRegistry = { uri: RegistryUri; backend: EtcdRegistryReader } | { uri: RegistryUri; notCovered: string };

/** The URIs `ls`, `diff` and `check` read. */
export function coveredUris(uris: readonly RegistryUri[]): RegistryUri[] {
  return uris.filter((uri) => COVERED.includes(uri.scheme));
}

/**
 * Makes a read-only backend for every covered URI, exactly as the daemon makes it (same factory,
 * same host, same etcd connection rule) but without a lease.
 */
export async function openRegistries(config: Config, etcd: Etcd3, log: Logger): Promise<OpsRegistry[]> {
  const factories = await loadBackendFactories(coveredUris(config.uris).map((u) => u.scheme));
  const made = openBackends(config, { etcd, factories, log });
  return config.uris.map((uri) => {
    const backend = made.find((m) => m.uri === uri)?.backend;
    if (backend?.reader) return { uri, backend: backend.reader };
    void backend?.close();
    return { uri, notCovered: NOT_COVERED };
  });
}

export async function closeRegistries(registries: readonly OpsRegistry[]): Promise<void> {
  await Promise.all(registries.map((r) => ('backend' in r ? r.backend.close() : undefined)));
}
