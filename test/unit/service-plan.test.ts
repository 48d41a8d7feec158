import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerHealth, Service, ServiceAction } from '../../src/registrator/service';
import { planServices } from '../../src/registrator/service-plan';

const CONTAINER = 'c'.repeat(64);

function service(id: string, port: number, o: { health?: ContainerHealth; checked?: boolean; name?: string } = {}): Service {
  return {
    id,
    name: o.name ?? 'web',
    port,
    ip: '10.0.0.5',
    tags: [],
    attrs: o.checked ? { check_docker_health: 'true' } : {},
    origin: {
      containerId: CONTAINER,
      containerName: 'web',
      hostPort: port,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'web',
      ...(o.health ? { health: o.health } : {}),
    },
  };
}

const a = service('h1:web:80', 8080);
const aMoved = service('h1:web:80', 9090);
const b = service('h1:web:443', 8443);
const checkedStarting = service('h1:web:80', 8080, { checked: true, health: 'starting' });
const checkedHealthy = service('h1:web:80', 8080, { checked: true, health: 'healthy' });
const plainStarting = service('h1:web:80', 8080, { health: 'starting' });
const plainHealthy = service('h1:web:80', 8080, { health: 'healthy' });

const byId = (...services: Service[]) => new Map(services.map((s) => [s.id, s]));
const followsHealth = (s: Service) => s.attrs.check_docker_health === 'true';

const cases: Array<{ name: string; held: Service[]; wanted: Service[]; broken?: Service[]; actions: ServiceAction[] }> = [
  { name: 'nothing held, nothing wanted', held: [], wanted: [], actions: [] },
  { name: 'in step: nothing to do', held: [a, b], wanted: [a, b], actions: [] },
  {
    name: 'new container: each service registered',
    held: [],
    wanted: [a, b],
    actions: [
      { kind: 'register', service: a },
      { kind: 'register', service: b },
    ],
  },
  {
    name: 'gone: each service deregistered',
    held: [a, b],
    wanted: [],
    actions: [
      { kind: 'deregister', service: a },
      { kind: 'deregister', service: b },
    ],
  },
  {
    name: 'port removed: only its service deregistered',
    held: [a, b],
    wanted: [a],
    actions: [{ kind: 'deregister', service: b }],
  },
  {
    name: 'changed (new host port): old form deregistered, then the new one registered',
    held: [a],
    wanted: [aMoved],
    actions: [
      { kind: 'deregister', service: a },
      { kind: 'register', service: aMoved },
    ],
  },
  {
    name: 'unchanged but not held as written (purged, edited, lease lost): written again',
    held: [a, b],
    wanted: [a, b],
    broken: [b],
    actions: [{ kind: 'rewrite', service: b }],
  },
  {
    name: 'broken and no longer wanted: deregistered, not rewritten',
    held: [a],
    wanted: [],
    broken: [a],
    actions: [{ kind: 'deregister', service: a }],
  },
  {
    name: 'health change where the registry reports it: refreshed in place',
    held: [checkedStarting],
    wanted: [checkedHealthy],
    actions: [{ kind: 'refresh', service: checkedHealthy, previous: checkedStarting }],
  },
  {
    name: 'health change where the registry does not report it: a change like any other',
    held: [plainStarting],
    wanted: [plainHealthy],
    actions: [
      { kind: 'deregister', service: plainStarting },
      { kind: 'register', service: plainHealthy },
    ],
  },
];

describe('planServices', () => {
  for (const c of cases) {
    it(c.name, () => {
      // Held services are compared by value; `broken` names held ones by identity, as the writer keeps them.
      const held = byId(...c.held);
      assert.deepEqual(
        planServices({ held, wanted: byId(...c.wanted), broken: new Set(c.broken ?? []), followsDockerHealth: followsHealth }),
        c.actions,
      );
    });
  }

  it('equal services that are different objects count as unchanged', () => {
    const copy = structuredClone(a);
    assert.deepEqual(planServices({ held: byId(a), wanted: byId(copy), broken: new Set(), followsDockerHealth: () => false }), []);
  });
});
