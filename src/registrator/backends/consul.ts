import { createConsulBackend } from '../consul/factory';
import { registerBackend } from '../registry';

/**
 * consul://[host:port], consul-tls://[host:port], consul-unix:///path.sock: the Consul agent API
 * (SPEC §7); with a path, consul:// and consul-tls:// write Consul KV instead, as consulkv:// does.
 */
registerBackend('consul', (uri, context) => createConsulBackend(uri, context));
registerBackend('consul-tls', (uri, context) => createConsulBackend(uri, context));
registerBackend('consul-unix', (uri, context) => createConsulBackend(uri, context));
