import type Docker from 'dockerode';
import { handleAll, retry, ExponentialBackoff } from 'cockatiel';
import { FULL_OR_SHORT_CONTAINER_ID } from './container-id';
import type { Logger } from '../log';

/** Which engine this daemon serves, as the engine names itself (`GET /info`). */
export interface EngineIdentity {
  /** `ID`: stable across restarts on Docker (it lives in the data root); new at every start of Podman's API service. */
  id: string;
  /** `Name`: the engine's host name. */
  name: string;
}

/** A container as far as telling whether the daemon runs in it goes (from its inspect). */
export interface OwnContainerFacts {
  id: string;
  hostname: string;
}

/**
 * Asks the engine who it is, again and again with backoff while it does not answer (the daemon can
 * do nothing without its engine, and never exits for that).
 */
export async function readEngineIdentity(docker: Docker, log: Logger): Promise<EngineIdentity> {
  const policy = retry(handleAll, {
    maxAttempts: Number.MAX_SAFE_INTEGER,
    backoff: new ExponentialBackoff({ initialDelay: 500, maxDelay: 10_000 }),
  });
  policy.onRetry(({ delay, ...rest }) =>
    log.warn('engine not answering GET /info; retrying', { inMs: Math.round(delay), err: 'error' in rest ? rest.error : undefined }),
  );
  return policy.execute(() => engineIdentity(docker));
}

/** Which engine this is (one `GET /info`); rejects when the engine does not answer. */
export async function engineIdentity(docker: Docker): Promise<EngineIdentity> {
  const info = (await docker.info()) as { ID?: string; Name?: string };
  return { id: String(info.ID ?? ''), name: String(info.Name ?? '') };
}

/** Whether a hostname can be a container's (short or whole) ID, as Docker gives one without `-h`. */
export function looksLikeContainerId(hostname: string): boolean {
  return FULL_OR_SHORT_CONTAINER_ID.test(hostname);
}

/**
 * The container named by this OS hostname on the engine, if there is one: a container started without
 * `-h` has its own short ID as its hostname. Undefined when the engine has no such container.
 */
export async function containerOfHostname(docker: Docker, hostname: string): Promise<OwnContainerFacts | undefined> {
  if (!looksLikeContainerId(hostname)) return undefined;
  try {
    return ownContainerFacts(await docker.getContainer(hostname).inspect());
  } catch {
    return undefined;
  }
}

/** What an inspect says of a container for telling whether the daemon runs in it. */
export function ownContainerFacts(info: { Id: string; Config?: { Hostname?: string } }): OwnContainerFacts {
  return { id: info.Id, hostname: info.Config?.Hostname ?? '' };
}
