import type { BackendFactory } from '../backend';
import { etcdKvBackend } from '../etcd-kv-backend';
import type { Service } from '../service';

/** `skydns.local` -> `/skydns/local/skydns`, SkyDNS's reversed-label layout. */
export function skydnsPath(domain: string): string {
  return `/skydns/${domain.split('.').filter(Boolean).reverse().join('/')}`;
}

export function skydnsRecord(service: Service): string {
  return JSON.stringify(
    service.ttl ? { host: service.ip, port: service.port, ttl: service.ttl } : { host: service.ip, port: service.port },
  );
}

/** skydns2://[host:port]/<domain>: `/skydns/<reversed domain>/<name>/<id>` = `{"host","port"}` (docs/registrator.md). */
export const createSkydns2Backend: BackendFactory = (uri, context) => {
  const base = skydnsPath(uri.path);
  return etcdKvBackend(uri, context, {
    root: `${base}/`,
    entries: (s) => [[`${base}/${s.name}/${s.id}`, skydnsRecord(s)]],
  });
};
