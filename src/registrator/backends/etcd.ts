import { hostPort } from '../address';
import { etcdKvBackend } from '../etcd-kv-backend';
import { registerBackend } from '../registry';

/** etcd://[host:port]/<prefix>: `/<prefix>/<name>/<id>` = `<ip>:<port>` (SPEC §7). */
registerBackend('etcd', (uri, context) =>
  etcdKvBackend(uri, context, {
    root: `/${uri.path}/`,
    entries: (s) => [[`/${uri.path}/${s.name}/${s.id}`, hostPort(s.ip, s.port)]],
  }),
);
