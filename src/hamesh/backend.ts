import { etcdKvBackend } from '../registrator/etcd-kv-backend';
import { registerBackend } from '../registrator/registry';
import { hameshEntry, hameshKeys, hameshServicePrefix } from './layout';

/**
 * hamesh://[host:port]/<prefix> (SPEC §6): one key tree per service, written in one transaction,
 * deleted whole; SIGUSR2 purges the prefix of every host.
 */
registerBackend('hamesh', (uri, context) =>
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
    purgePrefixes: [`/${uri.path}/`],
  }),
);
