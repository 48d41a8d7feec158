import { hostPort } from '../address';
import type { BackendFactory } from '../backend';
import { etcdKvBackend } from '../etcd-kv-backend';

/** etcd://[host:port]/<prefix>: `/<prefix>/<name>/<id>` = `<ip>:<port>` (docs/registrator.md). */
export const createEtcdBackend: BackendFactory = (uri, context) =>
  etcdKvBackend(uri, context, {
    root: `/${uri.path}/`,
    entries: (s) => [[`/${uri.path}/${s.name}/${s.id}`, hostPort(s.ip, s.port)]],
  });
