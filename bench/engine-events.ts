import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { EventLineSplitter, HANDLED_ACTIONS } from '../src/docker/events';

/** One Docker container event as the engine sends it. */
export interface EngineEvent {
  id: string;
  action: string;
  /** Wall time in ms (from the event's timeNano). */
  at: number;
  /** The container's name, image and labels. */
  attributes: Record<string, string>;
}

function parse(line: string): EngineEvent | undefined {
  try {
    const e = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; timeNano?: number };
    if (!e.Action || !e.Actor?.ID) return undefined;
    return { id: e.Actor.ID, action: e.Action, at: Number(e.timeNano) / 1e6, attributes: e.Actor.Attributes ?? {} };
  } catch {
    return undefined;
  }
}

/** Follows the engine's container events (those the daemon acts on) until the returned stop is called. */
export async function followEvents(
  docker: Docker,
  onEvent: (e: EngineEvent) => void,
  filters: Record<string, string[]> = {},
): Promise<() => void> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: [...HANDLED_ACTIONS], ...filters },
  })) as unknown as Readable;
  const splitter = new EventLineSplitter();
  stream.on('data', (chunk: Buffer) => {
    for (const line of splitter.push(chunk)) {
      const event = parse(line);
      if (event) onEvent(event);
    }
  });
  stream.on('error', () => undefined);
  return () => stream.destroy();
}

/**
 * Containers not of this run that had events the daemon acts on between two wall times: other
 * users of a shared engine, whose writes are then told apart from the ones being measured.
 */
export async function foreignEvents(docker: Docker, fromMs: number, toMs: number, ownLabel: string): Promise<EngineEvent[]> {
  const stream = (await docker.getEvents({
    since: (fromMs / 1000).toFixed(3),
    until: (toMs / 1000).toFixed(3),
    filters: { type: ['container'], event: [...HANDLED_ACTIONS] },
  } as object)) as unknown as Readable;
  const [key, value] = ownLabel.split('=');
  const splitter = new EventLineSplitter();
  const foreign: EngineEvent[] = [];
  for await (const chunk of stream) {
    for (const line of splitter.push(chunk as Buffer)) {
      const event = parse(line);
      if (event && event.attributes[key] !== value) foreign.push(event);
    }
  }
  return foreign;
}
