/** Podman's health checks, followed by polling (docs/podman.md): its events tell them too early. */
import type Docker from 'dockerode';
import type { Logger } from '../log';
import type { ContainerState } from './container';
import { healthStatus, isNotFound, isRunning } from './container-facts';

/**
 * The running containers that have a health check, each with the status the daemon last read for it
 * (what its writers were given), kept from every inspect. On Podman, whose `health_status` event comes
 * before the check's result is stored (and tells the status before it), DockerWatcher inspects these
 * every `-podman-health-poll` ms and hands a `health_status` event to the daemon for each whose status moved.
 */
export class HealthChecks {
  private readonly seen = new Map<string, string>();

  /** Notes what an inspect found; returns the state unchanged. */
  saw(state: ContainerState): ContainerState {
    const status = state.container?.state.running ? state.container.state.health : undefined;
    if (status === undefined) this.seen.delete(state.id);
    else this.seen.set(state.id, status);
    return state;
  }

  /** The containers noted, with the status last read for each. */
  entries(): Array<[id: string, status: string]> {
    return [...this.seen];
  }
}

/** What the health poll asks of the watcher it runs beside. */
export interface HealthPollHooks {
  /** The watcher stopped: the poll ends. */
  stopped(): boolean;
  /** Subscribed to Podman: a round is due (Docker's own events suffice there). */
  polling(): boolean;
  /** A container's health status is not the one the daemon last read: hand on a `health_status` event. */
  onChange(id: string): void;
}

/** A running health poll: `done` once it ended, `wake` ends its wait (for a stop). */
export interface HealthPoll {
  done: Promise<void>;
  wake(): void;
}

/**
 * On Podman, while subscribed: every `intervalMs`, inspects each running container that has a health
 * check and tells `onChange` of each whose status is not the one the daemon last read (the daemon's
 * sync then reads it again).
 */
export function pollHealthChecks(
  docker: Docker,
  health: HealthChecks,
  intervalMs: number,
  log: Logger,
  hooks: HealthPollHooks,
): HealthPoll {
  let wake = (): void => undefined;
  const done = (async () => {
    while (!hooks.stopped()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (hooks.stopped() || !hooks.polling()) continue;
      for (const [id, last] of health.entries()) {
        if (hooks.stopped() || !hooks.polling()) break;
        let now: string | undefined;
        try {
          const info = await docker.getContainer(id).inspect();
          now = isRunning(info) ? healthStatus(info) : undefined;
        } catch (err) {
          // An engine that does not answer is the event stream's to notice; gone is a change.
          if (!isNotFound(err)) break;
        }
        if (now !== last) {
          log.debug('health check status changed', { id, from: last, to: now ?? 'none' });
          hooks.onChange(id);
        }
      }
    }
  })();
  return { done, wake: () => wake() };
}
