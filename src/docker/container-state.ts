import type Docker from 'dockerode';
import { isNotFound } from './client';
import { ContainerInfo, isActive, isRunning, networkContainerRef } from './container';

/** What the daemon learned about one container from a fresh inspect. */
export interface ContainerState {
  id: string;
  /** The inspect result; null when Docker answered 404 (the container is gone). */
  info: ContainerInfo | null;
  /** Whether writers should hold it (running, and healthy when it has a HEALTHCHECK). */
  active: boolean;
}

/**
 * Inspects one container (a GET): what writers should hold for it; a 404 means it is gone. A running
 * container that shares another's network (`--net=container:<ref>`) has <ref> inspected too (a GET),
 * since its services are registered at that container's address.
 */
export async function inspectState(docker: Docker, id: string): Promise<ContainerState> {
  let info: ContainerInfo;
  try {
    info = await docker.getContainer(id).inspect();
  } catch (err) {
    if (isNotFound(err)) return { id, info: null, active: false };
    throw err;
  }
  const ref = networkContainerRef(info);
  if (ref !== undefined && isRunning(info)) info = { ...info, networkContainer: await inspectNetworkContainer(docker, ref) };
  return { id, info, active: isActive(info) };
}

/** The network container's inspect; null when Docker answers that it has none by that reference. */
async function inspectNetworkContainer(docker: Docker, ref: string): Promise<ContainerInfo | null> {
  if (ref === '') return null;
  try {
    return await docker.getContainer(ref).inspect();
  } catch (err) {
    // Any answer from Docker (404, or 400/500 for a reference it cannot use) concerns this container
    // only: it gets no services and a warning. No answer at all is Docker being away: retried.
    if (typeof (err as { statusCode?: unknown })?.statusCode === 'number') return null;
    throw err;
  }
}
