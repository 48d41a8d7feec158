import { createConsulBackend } from '../consul/factory';
import { registerBackend } from '../registry';

/** consulkv://[host:port]/<prefix>: Consul KV `<prefix>/<name>/<id>` = `<ip>:<port>` (SPEC §7). */
registerBackend('consulkv', (uri, context) => createConsulBackend(uri, context));
