import { hameshEntry, hameshKeys, hameshServicePrefix, type MeshService } from './layout';
import { HameshPortClaims } from './port-claims';

/** HaMesh's layout as the etcd registry core takes it (its KeyLayout, registration-ops.ts). */
export interface MeshKeyLayout {
  root: string;
  entries(service: MeshService): Array<[string, string]>;
  tree(service: MeshService): string;
  reject(service: MeshService): string | undefined;
  notes(service: MeshService): string[];
  /** The one hook: the claims on ports one service of the prefix may hold. */
  claims: HameshPortClaims;
  purgePrefixes: string[];
}

/**
 * HaMesh as the etcd registry core lays it out under `/<prefix>/`: one key tree per service,
 * written in one transaction and deleted whole; its external and internal ports held by one
 * service of the prefix (the claims hook); SIGUSR2 purges the prefix of every host.
 */
export function hameshKeyLayout(prefix: string): MeshKeyLayout {
  return {
    root: `/${prefix}/`,
    entries: (s) => hameshKeys(prefix, s),
    tree: (s) => hameshServicePrefix(prefix, s),
    reject: (s) => {
      const entry = hameshEntry(s);
      return 'rejected' in entry ? entry.rejected : undefined;
    },
    notes: (s) => {
      const entry = hameshEntry(s);
      return 'rejected' in entry ? [] : entry.notes;
    },
    claims: new HameshPortClaims(prefix),
    purgePrefixes: [`/${prefix}/`],
  };
}
