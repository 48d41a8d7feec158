/**
 * Ownership records: next to what a host writes, in the same transaction, it files a record under
 * its own prefix, so it finds everything it wrote by reading only that prefix (whatever the fleet
 * holds) and never mistakes another host's keys for its own.
 */

/** Root of every host's records. */
export const OWNERS_ROOT = '/_registrator/owners';

/**
 * One host's records for one writer: `/_registrator/owners/<host>/<scope>/`, the scope naming the
 * writer and its prefix (`mirror/registry`, `hamesh/mesh`, `etcd/services`).
 */
export function ownersPrefix(host: string, scope: string): string {
  return `${OWNERS_ROOT}/${host}/${scope}/`;
}
