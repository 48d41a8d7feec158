import type Docker from 'dockerode';
import type { ContainerState } from '../writer';
import { isNotFound } from './client';
import { isActive } from './container';

/** Inspects one container (a GET): what writers should hold for it; a 404 means it is gone. */
export async function inspectState(docker: Docker, id: string): Promise<ContainerState> {
  try {
    const info = await docker.getContainer(id).inspect();
    return { id, info, active: isActive(info) };
  } catch (err) {
    if (isNotFound(err)) return { id, info: null, active: false };
    throw err;
  }
}
