import type { Service } from './service';

/**
 * One step that brings a container's services in step with a registry, in the order it is taken:
 * - `register`: a service that is new, or changed (its old form is deregistered just before);
 * - `rewrite`: unchanged, but the registry no longer holds it as written (purged, edited, lease expired);
 * - `refresh`: only the container's Docker health changed, and the registry reports it itself;
 * - `deregister`: held but no longer wanted (container gone or stopped, port removed, service changed).
 */
export type ServiceAction =
  | { kind: 'register'; service: Service }
  | { kind: 'rewrite'; service: Service }
  | { kind: 'refresh'; service: Service; previous: Service }
  | { kind: 'deregister'; service: Service };

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

/** Equal apart from the container's Docker health. */
function sameButHealth(a: Service, b: Service): boolean {
  return (
    JSON.stringify({ ...a, origin: { ...a.origin, health: undefined } }) ===
    JSON.stringify({ ...b, origin: { ...b.origin, health: undefined } })
  );
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
    if (next && JSON.stringify(next) === JSON.stringify(service)) {
      if (input.broken.has(service)) actions.push({ kind: 'rewrite', service });
      kept.add(id);
      continue;
    }
    actions.push({ kind: 'deregister', service });
  }
  for (const [id, service] of input.wanted) if (!kept.has(id)) actions.push({ kind: 'register', service });
  return actions;
}
