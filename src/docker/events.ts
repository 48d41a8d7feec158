/**
 * The engine's event grammar: which events the daemon subscribes to, in each engine's words, and how one
 * line of the stream reads. Pure.
 */
import { StringDecoder } from 'node:string_decoder';
import { FULL_OR_SHORT_CONTAINER_ID } from './container-id';

/** Container actions the watcher acts on (docs/mirror.md, "The Docker watcher"). */
const CONTAINER_ACTIONS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update'] as const;
/**
 * Network actions the watcher acts on: `docker network connect`/`disconnect` change a container's
 * addresses, so the container they name (`Actor.Attributes.container`) is synced again.
 */
export const NETWORK_ACTIONS = ['connect', 'disconnect'] as const;
/** Every action handled; anything else is ignored. */
export const HANDLED_ACTIONS = [...CONTAINER_ACTIONS, ...NETWORK_ACTIONS] as const;
export type HandledAction = (typeof HANDLED_ACTIONS)[number];

/**
 * Podman's own names for two container actions (docs/podman.md): its event filter matches these, not
 * Docker's, and a stream may carry them (Podman 4.3's compatible API says `remove` for `destroy`).
 */
const PODMAN_ACTIONS: Readonly<Record<string, HandledAction>> = { died: 'die', remove: 'destroy' };

/** The engine behind the Docker API: Docker itself, or Podman's compatible service. */
export type EngineKind = 'docker' | 'podman';

/**
 * Which engine answered, from the headers of its answer to `GET /events`: Podman's service sends
 * `Libpod-Api-Version` (and `Server: Libpod/<version>`), dockerd `Server: Docker/<version>`.
 */
export function engineKindOf(headers: unknown): EngineKind {
  const h = (headers ?? {}) as Record<string, unknown>;
  return typeof h['libpod-api-version'] === 'string' || /^libpod\//i.test(String(h.server ?? '')) ? 'podman' : 'docker';
}

/**
 * The server-side filter for the event subscription. Filters are ANDed across keys: network events
 * other than connect/disconnect (a network's destroy) get through as well and are ignored by
 * parseEventLine. Podman matches `event` values against its own action names, so `die` and `destroy`
 * are asked for as `died` and `remove` there (asked for as Docker names them, Podman sends neither).
 */
export function eventFilters(kind: EngineKind): { type: Array<'container' | 'network' | 'service'>; event: string[] } {
  const podmanName = Object.fromEntries(Object.entries(PODMAN_ACTIONS).map(([podman, docker]) => [docker, podman]));
  const event = kind === 'podman' ? HANDLED_ACTIONS.map((a) => podmanName[a] ?? a) : [...HANDLED_ACTIONS];
  // Filters are ANDed across keys: network events other than connect/disconnect (a network's destroy)
  // and service actions other than update get through as well and are ignored by parseEventLine.
  return { type: ['container', 'network', 'service'], event };
}

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
  | { kind: 'service'; serviceId: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

interface RawEvent {
  Type?: unknown;
  Action?: unknown;
  status?: unknown;
  id?: unknown;
  Actor?: { ID?: unknown; Attributes?: { container?: unknown } | null };
}

/**
 * Reads one event line. `health_status: healthy` counts as `health_status`; Podman's `died` and
 * `remove` count as `die` and `destroy`; `exec_*` and other actions are ignored; a network
 * `connect`/`disconnect` is an event of the container it names; a line that is not an event JSON
 * object, or names no container, is malformed.
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
  if (type === 'service') return serviceEvent(e);
  if (type !== 'container') return { kind: 'ignored', reason: `type ${String(type)}` };
  const rawAction = typeof e.Action === 'string' ? e.Action : typeof e.status === 'string' ? e.status : undefined;
  const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : typeof e.id === 'string' ? e.id : undefined;
  if (rawAction === undefined || id === undefined || !FULL_OR_SHORT_CONTAINER_ID.test(id)) {
    return { kind: 'malformed', reason: 'no container id or action' };
  }
  const named = rawAction.split(':')[0].trim();
  const action = Object.hasOwn(PODMAN_ACTIONS, named) ? PODMAN_ACTIONS[named] : named;
  if (!(CONTAINER_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `action ${action}` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}

/**
 * A network event: `connect`/`disconnect` of the container in `Actor.Attributes.container`. Podman
 * sends no such attribute and gives the container's id as `Actor.ID` instead (docs/podman.md); a
 * network's id taken that way from another engine is harmless: no running container has it.
 */
function networkEvent(e: RawEvent): ParsedEventLine {
  const action = typeof e.Action === 'string' ? e.Action : undefined;
  if (action === undefined) return { kind: 'malformed', reason: 'network event without an action' };
  if (!(NETWORK_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `network action ${action}` };
  const attributes = e.Actor?.Attributes;
  const id = attributes && typeof attributes === 'object' && 'container' in attributes ? attributes.container : e.Actor?.ID;
  if (typeof id !== 'string' || !FULL_OR_SHORT_CONTAINER_ID.test(id))
    return { kind: 'malformed', reason: `network ${action} without a container id` };
  return { kind: 'event', event: { id, action: action as HandledAction } };
}

/**
 * A Swarm service's `update` (its published ports may have changed): its tasks on this host are synced
 * again. Its tasks' starts and deaths are container events; other service actions are ignored.
 */
function serviceEvent(e: RawEvent): ParsedEventLine {
  if (e.Action !== 'update') return { kind: 'ignored', reason: `service action ${String(e.Action)}` };
  const id = e.Actor?.ID;
  if (typeof id !== 'string' || !/^[0-9a-z]{1,64}$/.test(id)) return { kind: 'malformed', reason: 'service update without a service id' };
  return { kind: 'service', serviceId: id };
}

/**
 * Splits Docker's event stream into JSON lines. Chunks arrive at arbitrary boundaries: a line
 * (or a multi-byte UTF-8 character) may be split across chunks, and one chunk may hold several lines.
 */
export class EventLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Feeds one chunk; returns the complete, non-empty lines it finished. */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }

  /** The stream ended: whatever is left is the last line (Docker ends lines with \n, so usually nothing). */
  end(): string[] {
    const rest = (this.pending + this.decoder.end()).trim();
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}
