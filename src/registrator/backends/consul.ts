import type { Backend, BackendContext } from '../backend';
import { ConsulAgentBackend } from '../consul/agent-backend';
import { ConsulClient } from '../consul/client';
import { consulConnection } from '../consul/connection';
import { ConsulKvBackend } from '../consul/kv-backend';
import type { RegistryUri } from '../uri';

/**
 * consul://[host:port], consul-tls://[host:port], consul-unix:///path.sock: the Consul agent API
 * (docs/registrator.md); consulkv://[host:port]/<prefix>: Consul KV, `<prefix>/<name>/<id>` = `<ip>:<port>`,
 * as consul:// and consul-tls:// with a path. Settings come from the URI and the `CONSUL_*`
 * environment; a bad one throws a ConfigError (exit 2) before anything is written.
 */
export function createConsulBackend(uri: RegistryUri, context: BackendContext, env: NodeJS.ProcessEnv = process.env): Backend {
  const connection = consulConnection(uri, env);
  const client = new ConsulClient(connection.client);
  if (connection.kvPrefix !== undefined) {
    return new ConsulKvBackend(client, { prefix: connection.kvPrefix, host: context.host, description: uri.raw });
  }
  return new ConsulAgentBackend(client, {
    host: context.host,
    description: uri.raw,
    log: context.log.child({ component: `backend.${uri.scheme}`, registry: uri.raw }),
  });
}
