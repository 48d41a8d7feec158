/** Container actions the watcher acts on (SPEC §2); anything else is ignored. */
export const HANDLED_ACTIONS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update'] as const;
export type HandledAction = (typeof HANDLED_ACTIONS)[number];

export interface ContainerEvent {
  id: string;
  action: HandledAction;
}

export type ParsedEventLine =
  | { kind: 'event'; event: ContainerEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

/**
 * Reads one event line. `health_status: healthy` counts as `health_status`; `exec_*` and other
 * actions are ignored; a line that is not a container event JSON object is malformed.
 */
export function parseEventLine(line: string): ParsedEventLine {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (typeof data !== 'object' || data === null) return { kind: 'malformed', reason: 'not an object' };
  const e = data as { Type?: unknown; Action?: unknown; status?: unknown; id?: unknown; Actor?: { ID?: unknown } };
  const type = e.Type ?? 'container';
  if (type !== 'container') return { kind: 'ignored', reason: `type ${String(type)}` };
  const rawAction = typeof e.Action === 'string' ? e.Action : typeof e.status === 'string' ? e.status : undefined;
  const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : typeof e.id === 'string' ? e.id : undefined;
  if (rawAction === undefined || id === undefined || !/^[0-9a-f]{12,64}$/.test(id)) {
    return { kind: 'malformed', reason: 'no container id or action' };
  }
  const action = rawAction.split(':')[0].trim();
  if (!(HANDLED_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `action ${action}` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}
