import type { Backend } from '../backend';
import type { BackendContext } from '../registry';
import type { RegistryUri } from '../uri';
import { ConsulAgentBackend } from './agent-backend';
import { ConsulClient } from './client';
import { consulConnection } from './connection';
import { ConsulKvBackend } from './kv-backend';

/**
 * The backend for any Consul URI: the agent API, or KV mode for consulkv:// and for consul:// or
 * consul-tls:// with a path. Settings come from the URI and the `CONSUL_*` environment; a bad one
 * throws a ConfigError (exit 2) before anything is written.
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
