/**
 * The engine's event stream, followed for as long as the daemon runs: subscribed, read line by line,
 * and subscribed again after every break.
 */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { Logger } from '../log';
import { type Backoff, exponentialBackoff } from '../retry-backoff';
import { engineKindOf, EventLineSplitter, eventFilters, parseEventLine, type ContainerEvent, type EngineKind } from './events';
import { type HealthChecks, type HealthPoll, pollHealthChecks } from './health-checks';

/** A subscription to container events: handed on from `start()` until `stop()`. */
export interface EventWatch {
  start(): void;
  /** Resolves once the subscription is closed and no reconnect is pending. */
  stop(): Promise<void>;
  /** Whether events are subscribed right now (false while connecting, reconnecting or stopped). */
  readonly subscribed: boolean;
}

export interface WatcherHandlers {
  /** A container event arrived (a hint: the handler re-inspects). */
  onEvent(event: ContainerEvent): void;
  /**
   * The event subscription is (re)established: bring everything in step from a full list.
   * Called after every (re)connect, so nothing that happened while disconnected is missed.
   */
  onSubscribed(): Promise<void>;
  /** A Swarm service was updated (a hint: the handler syncs its tasks on this host). */
  onServiceEvent?(serviceId: string): void;
}

export interface WatcherOptions {
  /** First reconnect delay, doubled per failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** On Podman: the containers with a health check, polled every `healthPollMs` (see HealthChecks). */
  health?: HealthChecks;
  /** `-podman-health-poll`: milliseconds between two rounds of that poll; absent or 0: no poll at all. */
  healthPollMs?: number;
}

/**
 * Follows Docker's container events and network connect/disconnect: subscribe first, then let the
 * daemon list and reconcile (no event can fall between the two); on a broken stream, reconnect with
 * capped exponential backoff and reconcile again. Never gives up while started.
 */
export class DockerWatcher {
  private stopped = true;
  private connected = false;
  private stream?: Readable;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** The engine of the current subscription (known once subscribed). */
  private kind?: EngineKind;
  private readonly health?: HealthChecks;
  private readonly healthPollMs: number;
  private healthPoll?: HealthPoll;

  constructor(
    private readonly docker: Docker,
    private readonly handlers: WatcherHandlers,
    private readonly log: Logger,
    options: WatcherOptions = {},
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.health = options.health;
    this.healthPollMs = options.healthPollMs ?? 0;
  }

  /** Whether the event stream is subscribed right now (false while connecting, reconnecting or stopped). */
  get subscribed(): boolean {
    return this.connected;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
    if (this.health && this.healthPollMs > 0) {
      this.healthPoll = pollHealthChecks(this.docker, this.health, this.healthPollMs, this.log, {
        stopped: () => this.stopped,
        polling: () => this.kind === 'podman' && this.connected,
        onChange: (id) => this.handlers.onEvent({ id, action: 'health_status' }),
      });
    }
  }

  /** Stops watching; resolves once the stream is closed and no reconnect is pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.destroy();
    this.wake?.();
    this.healthPoll?.wake();
    await Promise.all([this.loop, this.healthPoll?.done]);
  }

  private async run(): Promise<void> {
    let backoff: Backoff | undefined;
    let failures = 0;
    while (!this.stopped) {
      let connectedAt = 0;
      try {
        // The filter is in the words of the engine that answered last time (Docker's at first). The
        // answer's headers say which engine it is: when it is another, subscribe again in its words
        // (before any reconcile, so no event falls between). Docker is asked nothing more than /events.
        let kind = this.kind ?? 'docker';
        let stream = await this.subscribe(kind);
        const answered = engineKindOf((stream as { headers?: unknown }).headers);
        if (answered !== kind) {
          stream.destroy();
          kind = answered;
          stream = await this.subscribe(kind);
        }
        if (this.stopped) {
          stream.destroy();
          break;
        }
        this.stream = stream;
        this.kind = kind;
        this.connected = true;
        connectedAt = Date.now();
        this.log.info('subscribed to Docker events', { engine: kind });
        const ended = this.consume(stream);
        // Not awaited: a long reconcile (etcd down) must not delay noticing a broken stream or a stop.
        this.handlers.onSubscribed().catch((err) => this.log.error('reconcile after subscribing failed', { err }));
        const reason = await ended;
        this.connected = false;
        if (this.stopped) break;
        this.log.warn('Docker event stream ended; reconnecting', { reason });
      } catch (err) {
        if (this.stopped) break;
        this.log.warn('cannot reach Docker; retrying', { err, attempt: failures + 1 });
      }
      // A stream that stayed up a while resets the backoff; one that keeps dying right away does not.
      const longLived = connectedAt !== 0 && Date.now() - connectedAt > 5_000;
      failures = longLived ? 0 : failures + 1;
      backoff = longLived ? undefined : (backoff?.next(undefined) ?? exponentialBackoff(this.initialBackoffMs, this.maxBackoffMs, false));
      await this.sleep(backoff?.duration ?? this.initialBackoffMs);
    }
  }

  private async subscribe(kind: EngineKind): Promise<Readable> {
    return (await this.docker.getEvents({ filters: eventFilters(kind) })) as unknown as Readable;
  }

  /** Reads the stream until it ends; resolves with why it ended. */
  private consume(stream: Readable): Promise<string> {
    const splitter = new EventLineSplitter();
    const handleLines = (lines: string[]) => {
      for (const line of lines) {
        const parsed = parseEventLine(line);
        if (parsed.kind === 'event') this.handlers.onEvent(parsed.event);
        else if (parsed.kind === 'service') this.handlers.onServiceEvent?.(parsed.serviceId);
        else if (parsed.kind === 'malformed')
          this.log.warn('skipped malformed Docker event line', { reason: parsed.reason, line: line.slice(0, 200) });
      }
    };
    return new Promise((resolve) => {
      let done = false;
      const finish = (reason: string) => {
        if (done) return;
        done = true;
        handleLines(splitter.end());
        resolve(reason);
      };
      stream.on('data', (chunk: Buffer) => handleLines(splitter.push(chunk)));
      stream.on('end', () => finish('end'));
      stream.on('close', () => finish('closed'));
      stream.on('error', (err) => finish(`error: ${err.message}`));
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
