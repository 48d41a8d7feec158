import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the Docker (or Podman) API is: a Unix socket, or TCP with or without TLS. */
export type DockerEndpoint =
  { kind: 'socket'; socketPath: string } | { kind: 'tcp'; host: string; port: number; tls: boolean; certPath?: string };

/**
 * A dockerode client for the configured engine. No `timeout` (it would kill the idle event stream)
 * and no pinned API version (the engine negotiates).
 */
export function createDockerClient(endpoint: DockerEndpoint): Docker {
  if (endpoint.kind === 'socket') return new Docker({ socketPath: endpoint.socketPath });
  const tlsFiles =
    endpoint.tls && endpoint.certPath
      ? {
          ca: readFileSync(join(endpoint.certPath, 'ca.pem')),
          cert: readFileSync(join(endpoint.certPath, 'cert.pem')),
          key: readFileSync(join(endpoint.certPath, 'key.pem')),
        }
      : {};
  return new Docker({ host: endpoint.host, port: endpoint.port, protocol: endpoint.tls ? 'https' : 'http', ...tlsFiles });
}
