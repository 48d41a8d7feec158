import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE } from '../support/docker';
import { PrivateDockerd } from '../support/dockerd';
import { EtcdServer } from '../support/etcd';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';

const exec = promisify(execFile);
const IP = '10.9.8.9';
/** Two daemons follow the one Swarm node: published ports (the default), and -internal on the overlay network. */
const MESH = `swarm-${process.pid}`;
const INTERNAL = `swarm-int-${process.pid}`;
const OVERLAY = 'srov';
const WEB = 'srweb';
const HM = 'srhm';

interface Task {
  name: string;
  /** The task's address on OVERLAY ('' when it is not on it) and on the engine's bridge. */
  overlayIp: string;
  bridgeIp: string;
  /** Host port of 80/tcp (host-mode publishing), '' when none. */
  hostPort: string;
}

/** docs/registrator.md, "Swarm services": a single-node Swarm on a private engine of its own. */
describe('Swarm services against a real Swarm node and etcd', () => {
  const engine = new PrivateDockerd(`sw${process.pid % 100000}`);
  const docker = (...args: string[]) => dockerCli(args, engine.env);
  let etcd: EtcdServer;
  const daemons: DaemonProcess[] = [];

  before(async () => {
    // Swarm mode refuses an engine with live-restore.
    await engine.start(false);
    await ensureTestImage(engine.env);
    await docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
    await docker('network', 'create', '-d', 'overlay', OVERLAY);
    etcd = await EtcdServer.start();
  });
  after(async () => {
    for (const d of daemons) await d.kill();
    await docker('service', 'rm', WEB, HM).catch(() => undefined);
    await docker('swarm', 'leave', '--force').catch(() => undefined);
    await engine.destroy();
    // Swarm mode makes the bridge docker_gwbridge in the machine's namespace and leaves it (with a /16 route)
    // when the engine stops: it is this engine's unless the machine's own engine has one.
    const mainHasIt = await dockerCli(['network', 'ls', '-q', '--filter', 'name=^docker_gwbridge$']).catch(() => 'unknown');
    if (mainHasIt === '') await exec('ip', ['link', 'del', 'docker_gwbridge']).catch(() => undefined);
    await etcd?.stop();
  });

  /** The running tasks of a Swarm service, as the engine reports them. */
  async function tasks(service: string): Promise<Task[]> {
    const ids = (await docker('ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${service}`))
      .split('\n')
      .filter(Boolean);
    if (ids.length === 0) return [];
    const infos = JSON.parse(await docker('inspect', ...ids)) as Array<{
      Name: string;
      State: { Running: boolean };
      NetworkSettings: { Networks: Record<string, { IPAddress: string }>; Ports: Record<string, Array<{ HostPort: string }> | null> };
    }>;
    return infos
      .filter((i) => i.State.Running)
      .map((i) => ({
        name: i.Name.slice(1),
        overlayIp: i.NetworkSettings.Networks[OVERLAY]?.IPAddress ?? '',
        bridgeIp: i.NetworkSettings.Networks.bridge?.IPAddress ?? '',
        hostPort: i.NetworkSettings.Ports?.['80/tcp']?.[0]?.HostPort ?? '',
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

  /**
   * Waits until both daemons hold exactly what the tasks running now give (recomputed at every look, so
   * it settles with the engine), with `web` and `hm` tasks running.
   */
  async function follows(what: string, web: number, hm: number, expected: (w: Task[], h: Task[]) => Record<string, string>) {
    let last: unknown;
    await waitFor(
      what,
      async () => {
        const [w, h] = [await tasks(WEB), await tasks(HM)];
        const want = sorted(expected(w, h));
        const have = sorted({ ...(await etcd.tree('/services/')), ...(await etcd.tree('/internal/')) });
        last = { tasks: [w.length, h.length], want, have };
        return w.length === web && h.length === hm && JSON.stringify(want) === JSON.stringify(have);
      },
      60_000,
      250,
    ).catch((err) => assert.fail(`${String(err)}\n${JSON.stringify(last, null, 1)}`));
  }

  it('mesh ports once per node at its address, host-mode ports per task, -internal per task on the overlay; scale and rm follow', async () => {
    const base = await freePorts(2);
    const [published, added] = [base, base + 1];
    for (const [host, extra, prefix] of [
      [MESH, [], 'services'],
      [INTERNAL, ['-internal', '-network', OVERLAY], 'internal'],
    ] as const) {
      const d = new DaemonProcess(['--no-mirror', '-docker-socket', `unix://${engine.socket}`, '-ip', IP, ...extra, `etcd:///${prefix}`], {
        EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
        EC_REGISTRATOR_HOST: host,
      });
      daemons.push(d);
    }
    await Promise.all(daemons.map((d) => d.waitForReconciliations(1)));

    const serve = [TEST_IMAGE, 'httpd', '-f', '-p', '80'];
    await docker(
      'service',
      'create',
      '-d',
      '--name',
      WEB,
      '--replicas',
      '2',
      '--network',
      OVERLAY,
      '--publish',
      `published=${published},target=80`,
      ...serve,
    );
    await docker('service', 'create', '-d', '--name', HM, '--replicas', '1', '--publish', 'target=80,mode=host', ...serve);

    // The mesh port: one key for the node, whichever tasks run. Host mode: each task's own binding.
    // -internal: each task at its overlay address; the host-mode task is not on the overlay: its bridge address.
    const state = (w: Task[], h: Task[]) => ({
      ...(w.length > 0 ? { [`/services/${WEB}/${MESH}:swarm:${WEB}:${published}`]: `${IP}:${published}` } : {}),
      ...Object.fromEntries(h.map((t) => [`/services/${HM}/${MESH}:${t.name}:80`, `${IP}:${t.hostPort}`])),
      ...Object.fromEntries(w.map((t) => [`/internal/${WEB}/${INTERNAL}:${t.name}:80`, `${t.overlayIp}:80`])),
      ...Object.fromEntries(h.map((t) => [`/internal/${HM}/${INTERNAL}:${t.name}:80`, `${t.bridgeIp}:80`])),
    });
    await follows('2 web tasks, 1 host-mode task', 2, 1, state);
    await daemons[1].waitForLog('service skipped', 1, 10_000, (l) =>
      String(l.reason).includes(`network "${OVERLAY}" (-network) is not one the container has an address on (bridge)`),
    );

    await docker('service', 'scale', '-d', `${WEB}=3`, `${HM}=2`);
    await follows('scaled up to 3 and 2', 3, 2, state);
    await docker('service', 'scale', '-d', `${WEB}=1`, `${HM}=1`);
    await follows('scaled down to 1 and 1', 1, 1, state);

    // A published port added to the service: its tasks keep running (no container event); the service event tells.
    await docker('service', 'update', '-d', '--publish-add', `published=${added},target=8080`, WEB);
    await follows('a second mesh port', 1, 1, (w, h) => ({
      ...state([], h),
      [`/services/${WEB}-80/${MESH}:swarm:${WEB}:${published}`]: `${IP}:${published}`,
      [`/services/${WEB}-8080/${MESH}:swarm:${WEB}:${added}`]: `${IP}:${added}`,
      ...Object.fromEntries(w.map((t) => [`/internal/${WEB}-80/${INTERNAL}:${t.name}:80`, `${t.overlayIp}:80`])),
      ...Object.fromEntries(w.map((t) => [`/internal/${WEB}-8080/${INTERNAL}:${t.name}:8080`, `${t.overlayIp}:8080`])),
    }));

    await docker('service', 'rm', WEB, HM);
    await follows('gone with the services', 0, 0, () => ({}));
    for (const d of daemons) assert.equal((await d.health()).code, 200);
  });
});
