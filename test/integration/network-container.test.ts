import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { dockerCli, TEST_IMAGE } from '../support/docker';
import { waitFor } from '../support/wait';

const exec = promisify(execFile);
const HOST = `netc-${process.pid}`;
const IP = '10.9.8.5';
/**
 * TEST_IMAGE with `EXPOSE 8080`, built locally (nothing pulled): Docker refuses `--expose` and `-p`
 * together with `--net=container:`, so a container sharing another's network exposes what its image does.
 */
const EXPOSING_IMAGE = 'test/busybox-expose8080:1';

/** docs/registrator.md, "Services": a `--net=container:<other>` container registers its exposed ports at <other>'s address. */
describe('--net=container: against real dockerd and etcd', () => {
  const suite = daemonSuite('netc', HOST);
  const { containers } = suite;

  before(async () => {
    if (!(await dockerCli(['images', '-q', EXPOSING_IMAGE]))) {
      await exec('sh', ['-c', `printf 'FROM ${TEST_IMAGE}\\nEXPOSE 8080\\n' | docker build -q -t ${EXPOSING_IMAGE} -`]);
    }
  });

  it("registers a container sharing another's network at that container's IP and its own exposed port", async () => {
    await suite.start(['-ip', IP, 'etcd:///services', 'hamesh:///mesh']);
    const podName = `pod-${process.pid}`;
    const appName = `app-${process.pid}`;
    const pod = await containers.run(['--name', podName, '-e', 'SERVICE_NAME=pod', '-p', '80', TEST_IMAGE, 'httpd', '-f', '-p', '80']);
    // By name, as people write it; Docker keeps it as container:<id>.
    const app = await containers.run([
      '--name',
      appName,
      `--net=container:${podName}`,
      '-e',
      'SERVICE_NAME=app',
      EXPOSING_IMAGE,
      'httpd',
      '-f',
      '-p',
      '8080',
    ]);
    assert.equal((await containers.inspect(app)).HostConfig.NetworkMode, `container:${pod}`);
    const podIp = (await containers.inspect(pod)).NetworkSettings.Networks.bridge.IPAddress;
    assert.match(podIp, /^\d+\.\d+\.\d+\.\d+$/);
    const podPort = await suite.hostPort(pod, '80/tcp');

    const p = `/mesh/pod/${HOST}:${podName}:80/`;
    const a = `/mesh/app/${HOST}:${appName}:8080/`;
    const expected = JSON.stringify({
      etcd: { [`/services/app/${HOST}:${appName}:8080`]: `${podIp}:8080`, [`/services/pod/${HOST}:${podName}:80`]: `${IP}:${podPort}` },
      hamesh: {
        [`${a}address`]: podIp,
        [`${a}mode`]: 'tcp',
        [`${a}port`]: '8080',
        [`${p}address`]: IP,
        [`${p}mode`]: 'tcp',
        [`${p}port`]: podPort,
      },
    });
    // The engine may run other tests' containers, which this daemon registers too: only ours are compared.
    const ours = (tree: Record<string, string>) =>
      Object.fromEntries(Object.entries(tree).filter(([k]) => k.includes(`/${HOST}:${podName}:`) || k.includes(`/${HOST}:${appName}:`)));
    const actual = async () =>
      JSON.stringify({ etcd: ours(await suite.etcd.tree('/services/')), hamesh: ours(await suite.etcd.tree('/mesh/')) });
    await waitFor('both containers registered', async () => (await actual()) === expected).catch(async (err) => {
      assert.deepEqual(JSON.parse(await actual()), JSON.parse(expected), String(err));
    });
    assert.equal(suite.daemon!.count('service skipped'), 0, 'no warning for the shared network');

    // Stopping it deregisters it (it is not looked up once it does not run); the other stays.
    await dockerCli(['stop', '-t', '1', app]);
    const left = JSON.stringify({
      etcd: { [`/services/pod/${HOST}:${podName}:80`]: `${IP}:${podPort}` },
      hamesh: { [`${p}address`]: IP, [`${p}mode`]: 'tcp', [`${p}port`]: podPort },
    });
    await waitFor('app deregistered', async () => (await actual()) === left);
  });
});
