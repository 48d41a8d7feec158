import { EtcdKvBackend } from '../etcd-kv-backend';
import { registerBackend } from '../registry';
import type { Service } from '../service';

/** `ip:port`, with IPv6 addresses in brackets. */
export function hostPort(service: Service): string {
  return service.ip.includes(':') ? `[${service.ip}]:${service.port}` : `${service.ip}:${service.port}`;
}

/** etcd://[host:port]/<prefix>: `/<prefix>/<name>/<id>` = `<ip>:<port>` (SPEC §7). */
registerBackend('etcd', (uri, context) => {
  const { client, shared } = context.etcdFor(uri);
  return new EtcdKvBackend(
    client,
    { entries: (s) => [[`/${uri.path}/${s.name}/${s.id}`, hostPort(s)]] },
    { host: context.host, scope: `etcd/${uri.path}`, description: uri.raw, ownsClient: !shared },
  );
});
