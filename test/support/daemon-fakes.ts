import { Writable } from 'node:stream';
import winston from 'winston';
import { type ContainerState, isHeld, parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import type { ContainerEngine } from '../../src/docker/engine';
import type { ContainerEvent } from '../../src/docker/events';
import type { EventWatch, WatcherHandlers } from '../../src/docker/watcher';
import type { Logger } from '../../src/log';
import type { DaemonObserver } from '../../src/observer';
import type { Writer } from '../../src/writer';

/** A promise settled from outside: holds a fake's call until the test lets it go. */
export class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => (this.open = resolve));
  }
}

/** A container engine in memory: containers the test runs and stops, events the test pushes. */
export class MemoryEngine implements ContainerEngine {
  /** Container id -> running. */
  readonly containers = new Map<string, boolean>();
  /** Every container inspected, in order. */
  readonly inspected: string[] = [];
  private handlers?: WatcherHandlers;
  private watching = false;

  run(...ids: string[]): void {
    for (const id of ids) this.containers.set(id, true);
  }

  kill(id: string): void {
    this.containers.set(id, false);
  }

  /** Hands an event to the daemon, as Docker's stream would. */
  push(event: ContainerEvent): void {
    if (this.watching) this.handlers?.onEvent(event);
  }

  async list(): Promise<string[]> {
    return [...this.containers].filter(([, running]) => running).map(([id]) => id);
  }

  async inspect(id: string): Promise<ContainerState> {
    this.inspected.push(id);
    const running = this.containers.get(id);
    if (running === undefined) return { id, container: null };
    const info = { Id: id, Name: `/${id}`, State: { Running: running, Restarting: false } } as unknown as ContainerInfo;
    return { id, container: parseContainer(info) };
  }

  watch(handlers: WatcherHandlers): EventWatch {
    this.handlers = handlers;
    const isWatching = () => this.watching;
    return {
      start: () => {
        this.watching = true;
        handlers.onSubscribed().catch(() => undefined);
      },
      stop: async () => {
        this.watching = false;
      },
      get subscribed() {
        return isWatching();
      },
    };
  }
}

/** A writer keeping its store in a map; each call can be made to fail or wait. */
export class MemoryWriter implements Writer {
  /** What the store holds for this host: container id -> its last state. */
  readonly store = new Map<string, ContainerState>();
  /** What this host holds as of the last load and the syncs since. */
  private held = new Set<string>();
  /** Every call, in order (`sync a`, `loadHeld`, `purgeAll`, ...), shared with other writers when given. */
  readonly calls: string[];
  /** Fails this many syncs from now. */
  failSyncs = 0;
  /** While set, a sync waits for it. */
  syncGate?: Gate;
  /** While set, a load waits for it. */
  loadGate?: Gate;
  /** While false, the ping fails. */
  reachable = true;
  pings = 0;
  removeError?: Error;
  closed = false;
  readonly ping?: () => Promise<void>;

  constructor(
    readonly name: string,
    options: { ping?: boolean; calls?: string[] } = {},
  ) {
    this.calls = options.calls ?? [];
    if (options.ping) {
      this.ping = async () => {
        this.pings++;
        if (!this.reachable) throw new Error(`${this.name} refused`);
      };
    }
  }

  async loadHeld(): Promise<void> {
    this.calls.push(`${this.name} loadHeld`);
    await this.loadGate?.promise;
    this.held = new Set(this.store.keys());
  }

  heldIds(): Iterable<string> {
    return this.held.values();
  }

  async sync(state: ContainerState): Promise<void> {
    this.calls.push(`${this.name} sync ${state.id}`);
    await this.syncGate?.promise;
    if (this.failSyncs > 0) {
      this.failSyncs--;
      throw new Error(`${this.name} store down`);
    }
    if (isHeld(state)) {
      this.store.set(state.id, state);
      this.held.add(state.id);
    } else {
      this.store.delete(state.id);
      this.held.delete(state.id);
    }
  }

  async removeHostData(): Promise<void> {
    this.calls.push(`${this.name} removeHostData`);
    if (this.removeError) throw this.removeError;
    this.store.clear();
    this.held.clear();
  }

  describeHostData(): string {
    return `${this.store.size} containers in ${this.name}`;
  }

  async purgeAll(): Promise<void> {
    this.calls.push(`${this.name} purgeAll`);
    this.store.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The containers the store holds, sorted. */
  stored(): string[] {
    return [...this.store.keys()].sort();
  }
}

/** An observer keeping what it is told. */
export class RecordingObserver implements DaemonObserver {
  readonly events: string[] = [];
  readonly writes: string[] = [];
  readonly reconciliations: boolean[] = [];

  eventHandled(action: string): void {
    this.events.push(action);
  }

  written(writer: string, ok: boolean): void {
    this.writes.push(`${writer} ${ok ? 'ok' : 'failed'}`);
  }

  reconciled(ok: boolean): void {
    this.reconciliations.push(ok);
  }
}

/** A logger keeping its lines (as JSON objects), debug included. */
export function recordingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const transports = [new winston.transports.Stream({ stream })];
  const log = winston.createLogger({ level: 'debug', format: winston.format.json(), transports });
  return { log, lines };
}
