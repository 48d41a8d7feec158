import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { readPrefix } from '../../src/etcd/reads';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { ensureEtcdImage, ETCD_IN_CONTAINER_ARGS } from '../support/etcd-image';
import { engineOf, expectedClaim, withClaimTimes } from '../support/host-claims';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { buildAppImage } from '../support/node-image';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';

/**
 * The default host name (docs/configuration.md, EC_REGISTRATOR_HOST): the registrator's image in a
 * container started without `-h` and without EC_REGISTRATOR_HOST, whose OS hostname is therefore its
 * own short ID, files its data under the engine's name (`GET /info` `Name`). The container is on a
 * bridge network of the test's own (with `--network host` its hostname would be the machine's), so
 * its etcd runs in a container on that network too, published on 127.0.0.1 for the test to read.
 */
describe('default host name: the engine name in a container started without -h', { timeout: 180_000 }, () => {
  const suffix = randomBytes(4).toString('hex');
  const network = `sr-hn-${suffix}`;
  const registratorName = `sr-hn-registrator-${suffix}`;
  const webName = `sr-hn-web-${suffix}`;
  const containers = new TestContainers(`host-name-${suffix}`);
  let etcd: Etcd3;
  let registratorId: string;
  let webId: string;
  let engineName: string;
  const tree = async (prefix: string) => Object.fromEntries([...(await readPrefix(etcd, prefix)).entries()]);
  const logs = () => dockerCli(['logs', registratorName]).catch((err: Error) => `(no logs: ${err.message})`);

  before(async () => {
    await ensureTestImage();
    const [image, etcdImage] = await Promise.all([buildAppImage(), ensureEtcdImage()]);
    engineName = (await engineOf()).name;
    await dockerCli(['network', 'create', network]);
    const port = await freePorts(1);
    const etcdId = await containers.run(['--network', network, '-p', `127.0.0.1:${port}:2379`, etcdImage, ...ETCD_IN_CONTAINER_ARGS]);
    etcd = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
    await waitFor('etcd in its container', async () => (await etcd.get('probe').string()) === null, 20_000, 200);
    const etcdIp = (await containers.inspect(etcdId)).NetworkSettings.Networks[network].IPAddress;
    webId = await containers.run(['--name', webName, '--label', 'role=web', TEST_IMAGE, 'sleep', '3600']);
    registratorId = await containers.run([
      '--name',
      registratorName,
      '--network',
      network,
      '-v',
      '/var/run/docker.sock:/tmp/docker.sock',
      '-e',
      `EC_REGISTRATOR_ETCD_HOSTS=${etcdIp}:2379`,
      '-e',
      'EC_REGISTRATOR_LOG_FORMAT=json',
      image,
    ]);
  });
  after(async () => {
    etcd?.close();
    await containers.removeAll();
    await dockerCli(['network', 'rm', network]).catch(() => undefined);
  });

  it("files the mirror under the engine's name, claims it, and logs where the name came from", async () => {
    const hosts = `/registry/hosts/${engineName}/`;
    await waitFor(
      'the registrator to mirror itself and the web container',
      async () => {
        const t = await tree(hosts);
        return t[`${hosts}${registratorName}`] === registratorId && t[`${hosts}${webName}`] === webId;
      },
      30_000,
      200,
    ).catch(async (err) => assert.fail(`${(err as Error).message}\nregistrator logs:\n${await logs()}`));
    const source = { tree };
    assert.deepEqual(sorted(await heldFor(source, webId)), sorted(expectedMirror(await containers.inspect(webId), engineName)));

    const own = await containers.inspect(registratorId);
    assert.equal(own.Config.Hostname, registratorId.slice(0, 12), 'started without -h: its hostname is its short ID');
    const claimKey = `/_registrator/hosts/${engineName}`;
    const claims = withClaimTimes(await tree('/_registrator/hosts/'));
    assert.deepEqual(claims, { [claimKey]: expectedClaim(engineName, await engineOf(), 1, own.Config.Hostname) });
    assert.deepEqual(await tree(`/registry/hosts/${own.Config.Hostname}/`), {}, 'nothing under the container ID');

    const starting = (await logs())
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { message: string; host?: string; hostFrom?: string })
      .find((l) => l.message === 'starting');
    assert.equal(starting?.host, engineName);
    assert.equal(starting?.hostFrom, 'engine-name');
  });
});
