import type { BackendFactory } from '../backend';
import { etcdKvBackend } from '../etcd-kv-backend';
import { hameshClaims, hameshEntry, hameshKeys, hameshServicePrefix } from '../hamesh/layout';

/**
 * hamesh://[host:port]/<prefix> (docs/registrator.md#hamesh): one key tree per service, written in
 * one transaction, deleted whole; an external or internal port is held by one service of the prefix
 * (claims); SIGUSR2 purges the prefix of every host.
 */
export const createHameshBackend: BackendFactory = (uri, context) =>
  etcdKvBackend(uri, context, {
    root: `/${uri.path}/`,
    entries: (s) => hameshKeys(uri.path, s),
    tree: (s) => hameshServicePrefix(uri.path, s),
    reject: (s) => {
      const entry = hameshEntry(s);
      return 'rejected' in entry ? entry.rejected : undefined;
    },
    notes: (s) => {
      const entry = hameshEntry(s);
      return 'rejected' in entry ? [] : entry.notes;
    },
    claims: (s) => hameshClaims(uri.path, s),
    purgePrefixes: [`/${uri.path}/`],
  });
