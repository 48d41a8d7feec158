import type Docker from 'dockerode';
import type { Etcd3 } from 'etcd3';
import { isNotFound } from '../src/docker/container-facts';
import { commitSplit as commitOps } from '../src/etcd/commit';
import { pool } from './pool';
import { Shape, shapeKeys } from './shape';

/** Containers the reference inspects and writes at once, as the daemon does by default. */
const REFERENCE_CONCURRENCY = 16;

/**
 * The least any registrator must do, with nothing around it: per container one inspect and one
 * etcd transaction putting every key the daemon's writers hold for it (mirror entry and, with
 * backends, each service's keys and ownership record). No reading of held state, no diffing, no
 * logging, no retry policy.
 */
export class Reference {
  constructor(
    private readonly docker: Docker,
    private readonly etcd: Etcd3,
    private readonly shape: Shape,
  ) {}

  /** List, then inspect and write every running container, 16 at a time; resolves with the count. */
  async sync(): Promise<number> {
    const list = await this.docker.listContainers();
    await pool(list, REFERENCE_CONCURRENCY, (c) => this.write(c.Id));
    return list.length;
  }

  /** What the reference does on one `start` event. */
  async write(id: string): Promise<void> {
    let info;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (err) {
      // Another user's container may be gone between the list and the inspect.
      if (isNotFound(err)) return;
      throw err;
    }
    await commitOps(
      this.etcd,
      [...shapeKeys(info, this.shape)].map(([key, value]) => ({ put: key, value })),
    );
  }
}
