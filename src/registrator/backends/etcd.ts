import { etcdKvBackend } from '../etcd-kv-backend';
import { registerBackend } from '../registry';
import type { Service } from '../service';

/** `ip:port`, with IPv6 addresses in brackets. */
export function hostPort(service: Service): string {
  return service.ip.includes(':') ? `[${service.ip}]:${service.port}` : `${service.ip}:${service.port}`;
}

/** etcd://[host:port]/<prefix>: `/<prefix>/<name>/<id>` = `<ip>:<port>` (SPEC §7). */
registerBackend('etcd', (uri, context) =>
  etcdKvBackend(uri, context, {
    root: `/${uri.path}/`,
    entries: (s) => [[`/${uri.path}/${s.name}/${s.id}`, hostPort(s)]],
  }),
);
