import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { TEST_IMAGE } from '../support/docker';
import { waitFor } from '../support/wait';

const HOST = `mesh-${process.pid}`;
const IP = '10.7.7.7';

describe('hamesh writer against real dockerd and etcd', () => {
  const suite = daemonSuite('mesh', HOST);
  const { containers } = suite;
  const start = () => suite.start(['-ip', IP, 'hamesh:///mesh']);
  const port = (id: string, spec: string) => suite.hostPort(id, spec);

  it('writes http with domains, tcp with external/internal port, and rejects a bad service next to a good one', async () => {
    await start();
    const web = await containers.run([
      '--name',
      `web-${process.pid}`,
      '-e',
      'SERVICE_NAME=web',
      '-e',
      'SERVICE_MODE=http',
      '-e',
      'SERVICE_DOMAINS=a.com,b.com',
      '-p',
      '80',
      TEST_IMAGE,
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    const db = await containers.run([
      '--name',
      `db-${process.pid}`,
      '--label',
      'SERVICE_NAME=db',
      '--label',
      'SERVICE_EXTERNAL_PORT=5432',
      '--label',
      'SERVICE_INTERNAL_PORT=15432',
      '-p',
      '5432',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    // Port 81 asks for http without domains: rejected; port 82 of the same container still registers.
    const mixed = await containers.run([
      '--name',
      `mixed-${process.pid}`,
      '-e',
      'SERVICE_NAME=mixed',
      '-e',
      'SERVICE_81_MODE=http',
      '-p',
      '81',
      '-p',
      '82',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const w = `/mesh/web/${HOST}:web-${process.pid}:80/`;
    const d = `/mesh/db/${HOST}:db-${process.pid}:5432/`;
    const m = `/mesh/mixed-82/${HOST}:mixed-${process.pid}:82/`;
    const expected: Record<string, string> = {
      [`${w}address`]: IP,
      [`${w}port`]: await port(web, '80/tcp'),
      [`${w}mode`]: 'http',
      [`${w}domains/a.com`]: 'a.com',
      [`${w}domains/b.com`]: 'b.com',
      [`${d}address`]: IP,
      [`${d}port`]: await port(db, '5432/tcp'),
      [`${d}mode`]: 'tcp',
      [`${d}external_port`]: '5432',
      [`${d}internal_port`]: '15432',
      [`${m}address`]: IP,
      [`${m}port`]: await port(mixed, '82/tcp'),
      [`${m}mode`]: 'tcp',
    };
    const sortedExpected = JSON.stringify(Object.fromEntries(Object.entries(expected).sort()));
    await waitFor('hamesh keys', async () => JSON.stringify(await suite.etcd.tree('/mesh/')) === sortedExpected).catch(async (err) => {
      assert.deepEqual(await suite.etcd.tree('/mesh/'), expected, String(err));
    });
    const warning = suite.daemon!.lines.find((l) => l.message === 'service skipped');
    assert.match(String(warning?.reason), new RegExp(`mixed-${process.pid} port 81/tcp: SERVICE_MODE=http needs SERVICE_DOMAINS`));
  });

  it("SIGUSR2 purges the whole hamesh prefix (every host's) and writes ours again; SIGTERM removes ours", async () => {
    await suite.etcd.client.put('/mesh/other/other-host:x:80/address').value('10.0.0.9');
    await start();
    const id = await containers.run(['--name', `app-${process.pid}`, '-e', 'SERVICE_NAME=app', '-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const a = `/mesh/app/${HOST}:app-${process.pid}:80/`;
    const ours = { [`${a}address`]: IP, [`${a}mode`]: 'tcp', [`${a}port`]: await port(id, '80/tcp') };
    await waitFor('registered', async () => (await suite.etcd.tree('/mesh/'))[`${a}port`] !== undefined);
    await suite.daemon!.reconcileOn('SIGUSR2');
    await waitFor('refilled', async () => JSON.stringify(await suite.etcd.tree('/mesh/')) === JSON.stringify(ours));
    await suite.etcd.client.put('/mesh/other/other-host:x:80/address').value('10.0.0.9');
    suite.daemon!.signal('SIGTERM');
    assert.equal(await suite.daemon!.exited, 0);
    assert.deepEqual(await suite.etcd.tree('/mesh/'), { '/mesh/other/other-host:x:80/address': '10.0.0.9' });
  });
});
