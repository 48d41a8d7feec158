/** Container actions the watcher acts on (SPEC §2). */
export const CONTAINER_ACTIONS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update'] as const;
/**
 * Network actions the watcher acts on: `docker network connect`/`disconnect` change a container's
 * addresses, so the container they name (`Actor.Attributes.container`) is synced again.
 */
export const NETWORK_ACTIONS = ['connect', 'disconnect'] as const;
/** Every action handled; anything else is ignored. */
export const HANDLED_ACTIONS = [...CONTAINER_ACTIONS, ...NETWORK_ACTIONS] as const;
export type HandledAction = (typeof HANDLED_ACTIONS)[number];

/** A network event's action: a hint only for a container that runs (see Daemon.onEvent). */
export function isNetworkAction(action: HandledAction): action is (typeof NETWORK_ACTIONS)[number] {
  return (NETWORK_ACTIONS as readonly string[]).includes(action);
}

export interface ContainerEvent {
  /** The container to sync (for a network event, the one it names). */
  id: string;
  action: HandledAction;
}

export type ParsedEventLine =
  | { kind: 'event'; event: ContainerEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

interface RawEvent {
  Type?: unknown;
  Action?: unknown;
  status?: unknown;
  id?: unknown;
  Actor?: { ID?: unknown; Attributes?: { container?: unknown } };
}

/**
 * Reads one event line. `health_status: healthy` counts as `health_status`; `exec_*` and other
 * actions are ignored; a network `connect`/`disconnect` is an event of the container it names;
 * a line that is not an event JSON object, or names no container, is malformed.
 */
export function parseEventLine(line: string): ParsedEventLine {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (typeof data !== 'object' || data === null) return { kind: 'malformed', reason: 'not an object' };
  const e = data as RawEvent;
  const type = e.Type ?? 'container';
  if (type === 'network') return networkEvent(e);
  if (type !== 'container') return { kind: 'ignored', reason: `type ${String(type)}` };
  const rawAction = typeof e.Action === 'string' ? e.Action : typeof e.status === 'string' ? e.status : undefined;
  const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : typeof e.id === 'string' ? e.id : undefined;
  if (rawAction === undefined || id === undefined || !CONTAINER_ID.test(id)) {
    return { kind: 'malformed', reason: 'no container id or action' };
  }
  const action = rawAction.split(':')[0].trim();
  if (!(CONTAINER_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `action ${action}` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}

/** A network event: `connect`/`disconnect` of the container in `Actor.Attributes.container`. */
function networkEvent(e: RawEvent): ParsedEventLine {
  const action = typeof e.Action === 'string' ? e.Action : undefined;
  if (action === undefined) return { kind: 'malformed', reason: 'network event without an action' };
  if (!(NETWORK_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `network action ${action}` };
  const id = e.Actor?.Attributes?.container;
  if (typeof id !== 'string' || !CONTAINER_ID.test(id)) return { kind: 'malformed', reason: `network ${action} without a container id` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}
