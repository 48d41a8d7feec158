import { ConfigError } from '../config-error';
import { skydnsTree } from '../registrator/backends/skydns2-layout';
import type { RegistryUri } from '../registrator/uri';

/** Writers whose values are not JSON: `<prefix>/<name>/<id>` = `<ip>:<port>` (etcd), a key tree of plain strings (hamesh). */
const PLAIN_VALUE_SCHEMES: ReadonlySet<string> = new Set(['etcd', 'hamesh']);

/**
 * Refuses an `etcd://` or `hamesh://` prefix that lies inside (or is) a skydns2 domain's tree in the
 * same etcd (`etcd:///skydns/local/skydns/x` with `skydns2:///skydns.local`): CoreDNS decodes every
 * value under the name it looks up as JSON and fails the whole lookup on one that is not, so such a
 * writer would break every name of the domain. Only URIs with the same host (or both none, the
 * daemon's etcd) share an etcd. One line naming both URIs.
 */
export function checkSkydnsTrees(uris: readonly RegistryUri[]): void {
  for (const skydns of uris.filter((u) => u.scheme === 'skydns2')) {
    const tree = skydnsTree(skydns.path);
    for (const other of uris) {
      if (!PLAIN_VALUE_SCHEMES.has(other.scheme) || other.authority !== skydns.authority) continue;
      if (!`/${other.path}/`.startsWith(tree)) continue;
      throw new ConfigError(
        `registry URI "${other.raw}" writes inside the tree of "${skydns.raw}" (${tree}), where CoreDNS reads every value as JSON: ` +
          `its values are not, and would break CoreDNS's lookups of the whole domain; give it a prefix outside ${tree}`,
      );
    }
  }
}
