import Docker from 'dockerode';
import { DockerProxy } from './docker-proxy';
import { dockerCli, ensureTestImage, TEST_IMAGE } from './docker';
import { ensurePodmanTestImage, PODMAN_TEST_IMAGE, podmanCli, PodmanService } from './podman';

/**
 * One container engine as a test suite drives it: its command line for the test's own actions, the
 * socket the daemon is given (`--docker-socket`), and an outage of its API service. The same suite
 * runs against each (test/integration/engines.test.ts).
 */
export interface EngineUnderTest {
  readonly name: 'docker' | 'podman';
  /** The busybox test image in this engine's storage. */
  readonly image: string;
  /** The API socket the daemon talks to (valid once started). */
  readonly socket: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The engine's own CLI (`docker ...`, `podman ...`); resolves with its stdout. */
  cli(args: string[]): Promise<string>;
  /** A container as the engine's API describes it (what the daemon reads). */
  inspect(id: string): Promise<Docker.ContainerInspectInfo>;
  /** `stop`/`rm -f` arguments that do not wait for the container to honour SIGTERM. */
  readonly stopNow: string[];
  /**
   * Lets a health check run now: Docker runs them itself (every `--health-interval`); Podman on a
   * machine without systemd runs none by itself, so `podman healthcheck run` is what a timer would do.
   */
  runHealthCheck(id: string): Promise<void>;
  /** The API service is down (its socket gone, every connection cut) while `during` runs, then up again. */
  apiOutage(during: () => Promise<void>): Promise<void>;
}

/**
 * dockerd (the machine's, shared with other tests) behind a proxy socket of the test's own: the
 * outage closes the proxy, never the engine others use.
 */
export function dockerEngineUnderTest(): EngineUnderTest {
  let proxy: DockerProxy | undefined;
  const client = new Docker({ socketPath: '/var/run/docker.sock' });
  return {
    name: 'docker',
    image: TEST_IMAGE,
    get socket() {
      return proxy!.socketPath;
    },
    stopNow: ['-t', '0'],
    async start() {
      await ensureTestImage();
      proxy = await DockerProxy.start();
    },
    async stop() {
      await proxy?.stop();
    },
    cli: (args) => dockerCli(args),
    inspect: (id) => client.getContainer(id).inspect(),
    async runHealthCheck() {
      // dockerd runs the check every --health-interval by itself.
    },
    async apiOutage(during) {
      await proxy!.close();
      try {
        await during();
      } finally {
        await proxy!.reopen();
      }
    },
  };
}

/** A rootful Podman API service of the test's own (PodmanService); the outage stops and restarts it. */
export function podmanEngineUnderTest(): EngineUnderTest {
  let service: PodmanService | undefined;
  let client: Docker | undefined;
  return {
    name: 'podman',
    image: PODMAN_TEST_IMAGE,
    get socket() {
      return service!.socketPath;
    },
    stopNow: ['-t', '0'],
    async start() {
      await ensurePodmanTestImage();
      service = await PodmanService.start();
      client = new Docker({ socketPath: service.socketPath });
    },
    async stop() {
      await service?.stop();
    },
    cli: (args) => podmanCli(args),
    inspect: (id) => client!.getContainer(id).inspect(),
    async runHealthCheck(id) {
      // Exits 1 when the check fails: that is a result, not an error.
      await podmanCli(['healthcheck', 'run', id]).catch((err: { code?: number }) => {
        if (err.code !== 1) throw err;
      });
    },
    async apiOutage(during) {
      await service!.halt();
      try {
        await during();
      } finally {
        await service!.launch();
      }
    },
  };
}

/** Containers made by one suite on one engine, labelled so that it removes exactly its own. */
export class EngineContainers {
  readonly label: string;

  constructor(
    readonly engine: EngineUnderTest,
    tag: string,
  ) {
    this.label = `sr.test=${tag}`;
  }

  /** `run -d` with these arguments (image and command included); resolves with the full id. */
  async run(args: string[]): Promise<string> {
    const out = await this.engine.cli(['run', '-d', '--label', this.label, ...args]);
    return out.split('\n').pop()!.trim();
  }

  async removeAll(): Promise<void> {
    const ids = (await this.engine.cli(['ps', '-aq', '--filter', `label=${this.label}`])).split('\n').filter(Boolean);
    if (ids.length)
      await this.engine.cli(['rm', '-f', ...(this.engine.name === 'podman' ? ['-t', '0'] : []), ...ids]).catch(() => undefined);
  }
}
