import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { parseContainer } from '../../src/docker/container';
import type { Service } from '../../src/registrator/service';
import { containerServices } from '../../src/registrator/service-model';
import { DaemonProcess } from './daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from './docker';
import { PrivateDockerd } from './dockerd';
import { Engine, engineOf, expectedClaim, withClaimTimes } from './host-claims';
import { expectedMirror, sorted } from './mirror';
import { sleep, waitFor } from './wait';

/** The registries every fleet daemon writes besides the mirror (docs/registrator.md, "HaMesh"; docs/registrator.md), on the daemon's own etcd. */
export const FLEET_URIS = ['hamesh:///mesh', 'etcd:///services'];

/** Anything that can read the whole etcd tree (EtcdServer, EtcdCluster). */
export interface TreeSource {
  tree(prefix?: string): Promise<Record<string, string>>;
}

/**
 * One Docker host of a fleet: a private dockerd (so its whole container list is known exactly)
 * and the registrator for it, under its own host name, with -internal services on exposed port 80.
 */
export class FleetHost {
  readonly dockerd: PrivateDockerd;
  readonly containers: TestContainers;
  daemon?: DaemonProcess;
  private serial = 0;
  private engine?: Engine;

  /** `engineName`: its private engine's name, when two hosts share one host name (each its own engine). */
  constructor(
    readonly host: string,
    private readonly etcdEndpoints: () => string,
    private readonly extraArgs: string[] = [],
    engineName = host,
  ) {
    this.dockerd = new PrivateDockerd(engineName);
    this.containers = new TestContainers(host, this.dockerd.env);
  }

  async boot(liveRestore = true): Promise<void> {
    await this.dockerd.start(liveRestore);
    await ensureTestImage(this.dockerd.env);
  }

  /** Starts (or restarts) this host's registrator; with `waitReconciled`, until its first reconciliation. */
  async startDaemon(waitReconciled = true, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
    this.daemon = new DaemonProcess(['-internal', '-ip', '127.0.0.1', ...this.extraArgs, ...FLEET_URIS], {
      EC_REGISTRATOR_HOST: this.host,
      EC_REGISTRATOR_DOCKER_SOCKET: this.dockerd.socket,
      EC_REGISTRATOR_ETCD_HOSTS: this.etcdEndpoints(),
      ...env,
    });
    if (waitReconciled) await this.daemon.waitForReconciliations(1, 'success', 60_000);
    return this.daemon;
  }

  /** Runs a service container (one tcp service on 80), or with `cmd` any other command. */
  async run(options: { rm?: boolean; cmd?: string[]; name?: string } = {}): Promise<string> {
    const name = options.name ?? `${this.host}-c${++this.serial}`;
    const args = ['--name', name, '--expose', '80', '-e', `SERVICE_NAME=svc-${this.host}`, '-l', `fleet.host=${this.host}`];
    if (options.rm) args.push('--rm');
    return this.containers.run([...args, TEST_IMAGE, ...(options.cmd ?? ['sleep', '3600'])]);
  }

  async docker(args: string[]): Promise<string> {
    return dockerCli(args, this.dockerd.env);
  }

  /** Inspect results of every running container on this host's engine. */
  async running(): Promise<Docker.ContainerInspectInfo[]> {
    const ids = (await this.docker(['ps', '-q', '--no-trunc'])).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    return JSON.parse(await this.docker(['inspect', ...ids])) as Docker.ContainerInspectInfo[];
  }

  /**
   * Every key this host's registrator must hold for what runs on its engine: mirror entries
   * (written out field by field in test/support/mirror.ts), hamesh and etcd service keys, and
   * the ownership records next to them, and while its registrator runs, its host-name claim.
   */
  async expectedTree(ttl?: number): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (this.daemon?.running)
      out[`/_registrator/hosts/${this.host}`] = expectedClaim(this.host, await this.engineIdentity(), this.daemon.pid);
    for (const c of await this.running()) {
      Object.assign(out, expectedMirror(c, this.host));
      const { services } = containerServices(parseContainer(c), {
        host: this.host,
        hostIp: '127.0.0.1',
        internal: true,
        explicit: false,
        tags: '',
        useIpFromLabel: '',
        ttl,
      });
      for (const s of services) Object.assign(out, serviceKeys(this.host, s));
    }
    return out;
  }

  /** This host's engine as `GET /info` names it (asked once). */
  async engineIdentity(): Promise<Engine> {
    this.engine ??= await engineOf(this.dockerd.env);
    return this.engine;
  }

  async shutdown(): Promise<void> {
    await this.daemon?.kill();
    await this.dockerd.destroy();
  }
}

/** hamesh (tcp mode) and etcd keys of one service, with their ownership records (JSON of the service, per container and service). */
function serviceKeys(host: string, s: Service): Record<string, string> {
  const record = JSON.stringify(s);
  const id = `${s.origin.containerId}/${encodeURIComponent(s.id)}`;
  return {
    [`/mesh/${s.name}/${s.id}/address`]: s.ip,
    [`/mesh/${s.name}/${s.id}/port`]: String(s.port),
    [`/mesh/${s.name}/${s.id}/mode`]: 'tcp',
    [`/services/${s.name}/${s.id}`]: `${s.ip}:${s.port}`,
    [`/_registrator/owners/${host}/hamesh/mesh/${id}`]: record,
    [`/_registrator/owners/${host}/etcd/services/${id}`]: record,
  };
}

/** The whole tree a fleet must converge to: the union of every host's expected keys, and `extra` (a simulated fleet's). */
export async function expectedFleetTree(
  hosts: FleetHost[],
  ttl?: number,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...extra };
  for (const h of hosts) Object.assign(out, await h.expectedTree(ttl));
  return sorted(out);
}

/**
 * Waits until the WHOLE etcd tree equals the fleet's expected state (nothing missing, nothing
 * extra, every value exact; claims but for their `since`), then asserts it once more so a failure prints the difference.
 * `stableMs`: the state must also hold that long (no late write or delete undoing it).
 */
export async function assertConverged(
  etcd: TreeSource,
  hosts: FleetHost[],
  options: { timeoutMs?: number; stableMs?: number; ttl?: number; extra?: () => Record<string, string> } = {},
): Promise<Record<string, string>> {
  let expected: Record<string, string> = {};
  await waitFor(
    'the etcd tree to equal the fleet state',
    async () => {
      expected = await expectedFleetTree(hosts, options.ttl, options.extra?.());
      const tree = withClaimTimes(await etcd.tree('/'));
      return JSON.stringify(tree) === JSON.stringify(expected);
    },
    options.timeoutMs ?? 60_000,
    250,
  ).catch(() => undefined);
  if (options.stableMs) await sleep(options.stableMs);
  expected = await expectedFleetTree(hosts, options.ttl, options.extra?.());
  assert.deepEqual(withClaimTimes(await etcd.tree('/')), expected);
  return expected;
}
