import type { Service } from '../../src/registrator/service';

/**
 * A `db` service on port 5432 at 10.0.0.2, as another host's registrator would have recorded it: the
 * neighbour whose keys and ownership record a test checks are left alone.
 */
export function anotherHostsService(id: string, origin: Partial<Service['origin']> = {}): Service {
  return {
    id,
    name: 'db',
    port: 5432,
    ip: '10.0.0.2',
    tags: [],
    attrs: {},
    origin: {
      containerId: 'f'.repeat(64),
      containerName: 'db',
      hostPort: 5432,
      exposedPort: 5432,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'db',
      ...origin,
    },
  };
}
