import type { Service, ServiceAction } from './service';

/** The planner (docs/registrator.md, "Services"): what to do about a container's services, from what a registry holds to what is wanted. */

export interface ServicePlanInput {
  /** The container's services as the registry holds them, by service id. */
  held: ReadonlyMap<string, Service>;
  /** The services the container should have there now, by service id. */
  wanted: ReadonlyMap<string, Service>;
  /** Held services (by identity) the registry no longer holds as written. */
  broken: ReadonlySet<Service>;
  /** Whether the registry reports this service's Docker health itself (see Backend.followsDockerHealth). */
  followsDockerHealth(service: Service): boolean;
}

/**
 * Whether two values are the same data as JSON holds them: object keys in any order, a property that is
 * undefined the same as one that is absent (a service read back from a registry has none of them).
 */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameData(item, b[i]));
  }
  const defined = (o: object) => Object.entries(o).filter(([, value]) => value !== undefined);
  const entriesA = defined(a);
  const recordB = b as Record<string, unknown>;
  return (
    entriesA.length === defined(b).length && entriesA.every(([key, value]) => Object.hasOwn(recordB, key) && sameData(value, recordB[key]))
  );
}

/** The same service. */
function sameService(a: Service, b: Service): boolean {
  return sameData(a, b);
}

/** The same service apart from the container's Docker health. */
function sameButHealth(a: Service, b: Service): boolean {
  return sameData({ ...a, origin: { ...a.origin, health: undefined } }, { ...b, origin: { ...b.origin, health: undefined } });
}

/**
 * The actions that take a container's services from `held` to `wanted` (docs/registrator.md, "Services"). Pure: the service
 * writer carries them out, `registrator diff` shows them. Held services come first (refreshed,
 * rewritten or deregistered), then the wanted ones that are not held as they are.
 */
export function planServices(input: ServicePlanInput): ServiceAction[] {
  const actions: ServiceAction[] = [];
  const kept = new Set<string>();
  for (const [id, service] of input.held) {
    const next = input.wanted.get(id);
    if (next && input.followsDockerHealth(next) && sameButHealth(next, service) && next.origin.health !== service.origin.health) {
      // Only the health changed: the registry is told in place, the service stays registered.
      actions.push({ kind: 'refresh', service: next, previous: service });
      kept.add(id);
      continue;
    }
    if (next && sameService(next, service)) {
      if (input.broken.has(service)) actions.push({ kind: 'rewrite', service });
      kept.add(id);
      continue;
    }
    actions.push({ kind: 'deregister', service });
  }
  for (const [id, service] of input.wanted) if (!kept.has(id)) actions.push({ kind: 'register', service });
  return actions;
}
