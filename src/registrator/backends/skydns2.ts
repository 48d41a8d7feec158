import type { BackendFactory } from '../backend';
import { etcdKvBackend } from '../etcd-kv-backend';
import { skydnsFields, skydnsNameProblem, skydnsPath, skydnsRecord } from './skydns2-layout';

export { skydnsRecord } from './skydns2-layout';

/**
 * skydns2://[host:port]/<domain>: `/skydns/<reversed domain>/<name>/<id>` = the JSON record CoreDNS's
 * etcd plugin reads (docs/registrator.md, "skydns2"). A service CoreDNS cannot serve by its name or ID
 * is still written, with a warning naming the fix; a bad SERVICE_PRIORITY or SERVICE_WEIGHT is left out.
 */
export const createSkydns2Backend: BackendFactory = (uri, context) => {
  const base = skydnsPath(uri.path);
  return etcdKvBackend(uri, context, {
    root: `${base}/`,
    entries: (s) => [[`${base}/${s.name}/${s.id}`, skydnsRecord(s)]],
    notes: (s) => {
      const name = skydnsNameProblem(s, uri.path);
      return [...(name ? [name] : []), ...skydnsFields(s).notes];
    },
  });
};
