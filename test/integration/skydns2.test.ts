import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli';
import { daemonSuite } from '../support/daemon-suite';
import { TEST_IMAGE } from '../support/docker';
import { waitFor } from '../support/wait';

const HOST = `sky-${process.pid}`;
const IP = '10.9.8.6';
const URIS = ['etcd:///services', 'skydns2:///skydns.local'];

// CoreDNS itself is not installed here (Debian bookworm has no package of it): these tests hold the
// records to the format its etcd plugin decodes (msg.Service), not to a running CoreDNS.
describe('skydns2 records for CoreDNS, against real dockerd and etcd', () => {
  const suite = daemonSuite('sky', HOST);
  const { containers } = suite;

  it('SERVICE_PRIORITY, SERVICE_WEIGHT and SERVICE_TEXT are in the record; a bad number is left out; a name CoreDNS cannot serve is written and warned of once', async () => {
    const daemon = await suite.start(['--no-mirror', '-ip', IP, ...URIS]);
    const served = await containers.run([
      '--name',
      `api-${process.pid}`,
      '-e',
      'SERVICE_NAME=api',
      '-e',
      'SERVICE_ID=api-1',
      '-e',
      'SERVICE_PRIORITY=10',
      '--label',
      'SERVICE_WEIGHT=30',
      '-e',
      'SERVICE_TEXT=version=2 "quoted"',
      '-p',
      '80',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const named = `web-${process.pid}`;
    const unserved = await containers.run([
      '--name',
      named,
      '-e',
      'SERVICE_NAME=web',
      '-e',
      'SERVICE_WEIGHT=heavy',
      '-p',
      '80',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const pApi = Number(await suite.hostPort(served, '80/tcp'));
    const pWeb = Number(await suite.hostPort(unserved, '80/tcp'));
    const defaultId = `${HOST}:${named}:80`;
    const expected = {
      '/services/api/api-1': `${IP}:${pApi}`,
      [`/services/web/${defaultId}`]: `${IP}:${pWeb}`,
      '/skydns/local/skydns/api/api-1': `{"host":"${IP}","port":${pApi},"priority":10,"weight":30,"text":"version=2 \\"quoted\\""}`,
      // Written as before, default ID and all; the bad weight is left out.
      [`/skydns/local/skydns/web/${defaultId}`]: `{"host":"${IP}","port":${pWeb}}`,
    };
    await waitFor(
      'the exact registry keys',
      async () => {
        const tree = { ...(await suite.etcd.tree('/services/')), ...(await suite.etcd.tree('/skydns/')) };
        return JSON.stringify(tree) === JSON.stringify(expected) ? tree : undefined;
      },
      20_000,
    );
    assert.deepEqual({ ...(await suite.etcd.tree('/services/')), ...(await suite.etcd.tree('/skydns/')) }, expected);
    // CoreDNS decodes the value into msg.Service: every field it has, with its JSON type.
    assert.deepEqual(JSON.parse(expected['/skydns/local/skydns/api/api-1']), {
      host: IP,
      port: pApi,
      priority: 10,
      weight: 30,
      text: 'version=2 "quoted"',
    });

    await daemon.waitForLog('service registered with a warning', 2, 20_000, (l) => l.container === unserved);
    // A resync says nothing new: the warnings are logged once.
    await daemon.reconcileOn('SIGHUP');
    const reasons = daemon.lines.filter((l) => l.message === 'service registered with a warning').map((l) => [l.container, l.reason]);
    assert.deepEqual(reasons, [
      [
        unserved,
        `${named} port 80/tcp: service ID "${defaultId}" holds ":": the SRV target ${defaultId}.web.skydns.local is no host name ` +
          '(letters, digits, hyphens), which resolvers and SRV clients refuse; set SERVICE_ID (e.g. SERVICE_ID=web-80) for CoreDNS to serve it',
      ],
      [unserved, `${named} port 80/tcp: SERVICE_WEIGHT "heavy" is not a whole number from 0 to 65535 (left out of the skydns2 record)`],
    ]);
  });

  it('an etcd:// prefix inside the skydns2 domain tree exits 2 with one line naming both URIs, and writes nothing', async () => {
    const env = {
      EC_REGISTRATOR_ETCD_HOSTS: suite.etcd.endpoint,
      EC_REGISTRATOR_HOST: HOST,
      EC_REGISTRATOR_DOCKER_SOCKET: '/nonexistent/docker.sock',
    };
    const line =
      'registry URI "etcd:///skydns/local/skydns/x" writes inside the tree of "skydns2:///skydns.local" (/skydns/local/skydns/), ' +
      "where CoreDNS reads every value as JSON: its values are not, and would break CoreDNS's lookups of the whole domain; " +
      'give it a prefix outside /skydns/local/skydns/';
    const before = (await suite.etcd.client.kv.range({ key: Buffer.from('/') })).header.revision;
    assert.deepEqual(await runCli(['etcd:///skydns/local/skydns/x', 'skydns2:///skydns.local'], env), {
      code: 2,
      stdout: '',
      stderr: `registrator: ${line}\n`,
    });
    assert.deepEqual(await runCli(['check', 'skydns2:///skydns.local', 'etcd:///skydns/local/skydns/x'], env), {
      code: 2,
      stdout: '',
      stderr: `registrator check: ${line}\n`,
    });
    assert.deepEqual(await runCli([], { ...env, EC_REGISTRATOR_URIS: 'etcd:///skydns/local/skydns/x,skydns2:///skydns.local' }), {
      code: 2,
      stdout: '',
      stderr: `registrator: ${line}\n`,
    });
    assert.equal((await suite.etcd.client.kv.range({ key: Buffer.from('/') })).header.revision, before);
  });
});
