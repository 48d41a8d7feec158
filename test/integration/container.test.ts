import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { buildAppImage } from '../support/node-image';
import { freePorts } from '../support/ports';
import { sleep, waitFor } from '../support/wait';

/**
 * The registrator as operators run it: the project's image, PID 1 in its container, the host's
 * Docker socket mounted at /tmp/docker.sock, writing the mirror into a real etcd.
 */
describe('registrator image', () => {
  const suffix = randomBytes(4).toString('hex');
  const host = `sr-image-host-${suffix}`;
  const registratorName = `sr-registrator-${suffix}`;
  const webName = `sr-image-web-${suffix}`;
  const containers = new TestContainers(`container-image-${suffix}`);
  let etcd: EtcdServer;
  let webPort: number;
  let webId: string;

  before(async () => {
    await ensureTestImage();
    const image = await buildAppImage();
    etcd = await EtcdServer.start();
    webPort = await freePorts(1);
    await dockerCli([
      'run',
      '-d',
      '--name',
      registratorName,
      '--label',
      containers.label,
      '--network',
      'host',
      '-v',
      '/var/run/docker.sock:/tmp/docker.sock',
      '-e',
      `EC_REGISTRATOR_ETCD_HOSTS=${etcd.endpoint}`,
      '-e',
      `EC_REGISTRATOR_HOST=${host}`,
      image,
    ]);
    // Its own container is on this engine too: once that is mirrored, the first reconciliation is done.
    await waitFor(
      'the registrator to mirror itself',
      async () => (await etcd.tree(`/registry/hosts/${host}/`))[`/registry/hosts/${host}/${registratorName}`],
      30_000,
      200,
    ).catch(async (err) => assert.fail(`${(err as Error).message}\nregistrator logs:\n${await logs()}`));
  });

  after(async () => {
    await dockerCli(['rm', '-f', registratorName]).catch(() => undefined);
    await containers.removeAll();
    await etcd?.stop();
  });

  const logs = () => dockerCli(['logs', registratorName]).catch((err: Error) => `(no logs: ${err.message})`);
  const inspect = async (nameOrId: string): Promise<Docker.ContainerInspectInfo> => JSON.parse(await dockerCli(['inspect', nameOrId]))[0];

  /** docs/mirror.md, "Key layout", computed from `docker inspect` alone: every key the mirror should hold for one container. */
  function expectedMirror(info: Docker.ContainerInspectInfo): Record<string, string> {
    const id = info.Id;
    const name = info.Name.replace(/^\//, '');
    const base = `/registry/containers/${id}/`;
    const settings = info.NetworkSettings as Docker.ContainerInspectInfo['NetworkSettings'] & { IPAddress?: string };
    const firstNetwork = Object.keys(settings.Networks ?? {}).sort()[0];
    const ip = settings.IPAddress || (firstNetwork ? settings.Networks[firstNetwork].IPAddress : '') || '';
    const expected: Record<string, string> = {
      [`${base}id`]: id,
      [`${base}created`]: info.Created,
      [`${base}state`]: info.State.Status,
      [`${base}image`]: info.Config.Image,
      [`${base}name`]: name,
      [`${base}host`]: host,
      [`${base}network/ip`]: ip,
      [`/registry/hosts/${host}/${name}`]: id,
    };
    const ports = (settings.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
    for (const spec of new Set([...Object.keys(ports), ...Object.keys(info.Config.ExposedPorts ?? {})])) {
      const [port, proto] = spec.split('/');
      const binding = ports[spec]?.[0];
      const portBase = `${base}network/ports/${port}-${proto}/`;
      Object.assign(expected, {
        [`${portBase}intPort`]: port,
        [`${portBase}extPort`]: binding?.HostPort ?? '',
        [`${portBase}extIp`]: binding?.HostIp ?? '',
        [`${portBase}proto`]: proto,
      });
    }
    for (const [label, value] of Object.entries(info.Config.Labels ?? {})) {
      expected[`${base}labels/${label}`] = value;
      expected[`/registry/labels/${label}/${id}`] = value;
    }
    return sorted(expected);
  }

  /** What etcd holds for one container: its entry, its hosts/ key and its labels/ index keys. */
  async function mirroredFor(id: string, name: string): Promise<Record<string, string>> {
    const tree = await etcd.tree('/registry/');
    const mine = Object.entries(tree).filter(
      ([key]) =>
        key.startsWith(`/registry/containers/${id}/`) ||
        key === `/registry/hosts/${host}/${name}` ||
        (key.startsWith('/registry/labels/') && key.endsWith(`/${id}`)),
    );
    return sorted(Object.fromEntries(mine));
  }

  it('mirrors its own host-network container, which has no IP and no ports', async () => {
    const info = await inspect(registratorName);
    const expected = expectedMirror(info);
    const base = `/registry/containers/${info.Id}/`;
    assert.equal(expected[`${base}network/ip`], '');
    assert.deepEqual(
      Object.keys(expected).filter((k) => k.includes('/network/ports/')),
      [],
    );
    assert.deepEqual(await mirroredFor(info.Id, registratorName), expected);
  });

  it('mirrors a container started after it, exactly as docker inspect describes it', async () => {
    webId = await containers.run([
      '--name',
      webName,
      '--label',
      'sr.role=web',
      '-p',
      `127.0.0.1:${webPort}:80`,
      TEST_IMAGE,
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    const info = await inspect(webId);
    const expected = expectedMirror(info);
    // The layout is pinned down independently of inspect where the test itself chose the value.
    const base = `/registry/containers/${webId}/`;
    assert.equal(expected[`${base}state`], 'running');
    assert.equal(expected[`${base}image`], TEST_IMAGE);
    assert.equal(expected[`${base}labels/sr.role`], 'web');
    assert.equal(expected[`${base}network/ports/80-tcp/extPort`], String(webPort));
    assert.equal(expected[`${base}network/ports/80-tcp/extIp`], '127.0.0.1');
    assert.equal(expected[`/registry/labels/sr.role/${webId}`], 'web');
    assert.match(expected[`${base}network/ip`], /^\d+\.\d+\.\d+\.\d+$/);

    await waitFor(
      'the web container to be mirrored',
      async () => JSON.stringify(await mirroredFor(webId, webName)) === JSON.stringify(expected),
      15_000,
      100,
    ).catch(() => undefined);
    assert.deepEqual(await mirroredFor(webId, webName), expected, `registrator logs:\n${await logs()}`);
  });

  it('restores a key deleted by hand on SIGHUP and keeps running', async () => {
    const info = await inspect(webId);
    const expected = expectedMirror(info);
    const extPortKey = `/registry/containers/${webId}/network/ports/80-tcp/extPort`;
    await etcd.client.delete().key(extPortKey);
    // Nothing watches etcd, so the key stays missing until the registrator is told to reconcile.
    await sleep(500);
    assert.equal((await etcd.tree(extPortKey))[extPortKey], undefined);
    const startedAt = (await inspect(registratorName)).State.StartedAt;

    await dockerCli(['kill', '-s', 'SIGHUP', registratorName]);
    await waitFor(
      'the deleted key to be written again',
      async () => (await etcd.tree(extPortKey))[extPortKey] !== undefined,
      15_000,
      100,
    ).catch(() => undefined);
    assert.deepEqual(await mirroredFor(webId, webName), expected, `registrator logs:\n${await logs()}`);
    assert.equal(expected[extPortKey], String(webPort));

    const state = (await inspect(registratorName)).State;
    assert.equal(state.Running, true, `registrator stopped after SIGHUP:\n${await logs()}`);
    assert.equal(state.StartedAt, startedAt, 'registrator was restarted');
  });

  it('deletes everything this host wrote on docker stop and exits 0', async () => {
    assert.ok(
      Object.keys(await etcd.tree(`/registry/hosts/${host}/`)).length >= 2,
      'the registrator and web containers are mirrored before the stop',
    );

    // docker stop sends SIGTERM to PID 1, the daemon; the timeout only bounds a hung shutdown.
    await dockerCli(['stop', '-t', '30', registratorName]);
    const state = (await inspect(registratorName)).State;
    const shutdownLogs = await logs();
    assert.equal(state.Running, false);
    assert.equal(state.OOMKilled, false);
    assert.equal(state.ExitCode, 0, `registrator logs:\n${shutdownLogs}`);

    // Only this registrator writes to this etcd, so nothing at all may be left of the mirror.
    const tree = await etcd.tree('/registry/');
    assert.deepEqual(
      Object.keys(tree).filter((k) => k.startsWith(`/registry/hosts/${host}/`)),
      [],
    );
    assert.deepEqual(
      Object.keys(tree).filter((k) => k.endsWith('/host') && tree[k] === host),
      [],
    );
    assert.deepEqual(tree, {}, `registrator logs:\n${shutdownLogs}`);

    // SIGTERM removes data, not containers.
    assert.equal((await inspect(webId)).State.Running, true);
  });
});

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}
