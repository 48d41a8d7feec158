import type Docker from 'dockerode';
import { TEST_IMAGE, TestContainers } from '../test/support/docker';
import { pool } from './pool';
import { IP_LABEL, SERVICE_NAME, SERVICE_PORT } from './shape';

/** Docker API calls in flight while creating or removing containers: enough to be quick, few enough for a 2-core engine. */
const DOCKER_CONCURRENCY = 8;

/**
 * The benchmark's containers: busybox sleeping with no network, a few labels, one exposed port and
 * SERVICE_* env (so the backends configuration registers one service each, at the address in its
 * `bench.ip` label). Every one carries the run's `sr.test` label and a name starting with `prefix`,
 * and all are removed at the end, also on failure.
 */
export class Fleet {
  readonly prefix: string;
  private readonly containers: TestContainers;
  private running = 0;

  constructor(
    private readonly docker: Docker,
    tag: string,
  ) {
    this.prefix = `srbench-${tag}-`;
    this.containers = new TestContainers(`bench-${tag}`);
  }

  /** The name prefix of the fleet proper (not the latency or one-off containers). */
  get fleetPrefix(): string {
    return `${this.prefix}f`;
  }

  /** `sr.test=<tag>`: the label every container of this run carries. */
  get label(): string {
    return this.containers.label;
  }

  get size(): number {
    return this.running;
  }

  /** Starts containers until the fleet has `count`. */
  async growTo(count: number): Promise<void> {
    const indexes = Array.from({ length: Math.max(0, count - this.running) }, (_, i) => this.running + i);
    await pool(indexes, DOCKER_CONCURRENCY, async (i) => {
      await this.start(`${this.fleetPrefix}${String(i).padStart(5, '0')}`, i);
    });
    this.running = Math.max(this.running, count);
  }

  /** Creates and starts one container; resolves with its id once Docker has started it. */
  async start(name: string, index: number): Promise<string> {
    const [labelKey, labelValue] = this.containers.label.split('=');
    const container = await this.docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['sleep', '1000000'],
      Labels: {
        [labelKey]: labelValue,
        'com.example.app': 'bench',
        [IP_LABEL]: `10.77.${(index >> 8) & 255}.${index & 255}`,
      },
      Env: [`SERVICE_NAME=${SERVICE_NAME}`, 'SERVICE_TAGS=bench'],
      ExposedPorts: { [`${SERVICE_PORT}/tcp`]: {} },
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    return container.id;
  }

  /** Removes the containers whose name starts with `namePrefix` (default: all of this run's). */
  async remove(namePrefix = this.prefix): Promise<void> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [this.containers.label] } });
    const doomed = list.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(namePrefix)));
    await pool(doomed, DOCKER_CONCURRENCY, async (c) => {
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    });
    if (namePrefix === this.prefix) {
      // Whatever a failure left behind goes too.
      await this.containers.removeAll();
      this.running = 0;
    }
  }
}
