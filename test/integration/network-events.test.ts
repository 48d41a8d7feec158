import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { dockerCli, TEST_IMAGE } from '../support/docker';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { waitFor } from '../support/wait';

const HOST = `net-${process.pid}`;
// Named so that A sorts before B: the mirror's network/ip takes the first network by name that has an IP.
const NET_A = `sr-neta-${process.pid}`;
const NET_B = `sr-netb-${process.pid}`;

/**
 * docs/mirror.md, "The Docker watcher"; docs/mirror.md, "Key layout": `docker network connect`/`disconnect` are followed as they happen (no -resync, no SIGHUP):
 * the mirror's network/ip and an -internal etcd:// registration change with the container's networks.
 */
describe('network connect and disconnect against real dockerd and etcd', () => {
  const suite = daemonSuite('net', HOST);
  const { containers } = suite;

  before(async () => {
    for (const net of [NET_A, NET_B]) await dockerCli(['network', 'create', '--label', containers.label, net]);
  });
  after(async () => {
    await containers.removeAll();
    await dockerCli(['network', 'rm', NET_A, NET_B]).catch(() => undefined);
  });

  it('the mirror network/ip and an -internal registration follow connect and disconnect', async () => {
    await suite.start(['-internal', 'etcd:///services']);
    const name = `web-${process.pid}`;
    const id = await containers.run([
      '--name',
      name,
      '--network',
      NET_B,
      '--expose',
      '80',
      '-e',
      'SERVICE_NAME=web',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const key = `/services/web/${HOST}:${name}:80`;
    const ipOn = async (net: string) => (await containers.inspect(id)).NetworkSettings.Networks[net].IPAddress;

    /** Waits until the mirror holds exactly the entry the current inspect gives, with this network/ip, and the service is at `registered`. */
    const expectState = async (step: string, mirrorIp: string, registered: string) => {
      const info = await containers.inspect(id);
      const mirror = sorted(expectedMirror(info, HOST));
      assert.equal(mirror[`/registry/containers/${id}/network/ip`], mirrorIp, `${step}: the mirror's rule for network/ip`);
      const expected = JSON.stringify({ mirror, services: { [key]: `${registered}:80` } });
      // The engine may run other tests' containers (registered too under -internal): only this one is compared.
      const services = async () =>
        Object.fromEntries(Object.entries(await suite.etcd.tree('/services/')).filter(([k]) => k.includes(`/${HOST}:${name}:`)));
      const actual = async () => JSON.stringify({ mirror: sorted(await heldFor(suite.etcd, id)), services: await services() });
      await waitFor(step, async () => (await actual()) === expected, 15_000).catch(async (err) => {
        assert.deepEqual(JSON.parse(await actual()), JSON.parse(expected), `${step}: ${String(err)}`);
      });
    };

    const b1 = await ipOn(NET_B);
    await expectState('started on B', b1, b1);

    // A sorts first: the mirror takes A's IP; -internal keeps the address on the container's own network, B.
    await dockerCli(['network', 'connect', NET_A, id]);
    const a = await ipOn(NET_A);
    await expectState('connected to A', a, b1);

    // Its own network gone, -internal takes the first network by name that has an address: A.
    await dockerCli(['network', 'disconnect', NET_B, id]);
    await expectState('disconnected from B', a, a);

    // Back on its own network: -internal uses it again; the mirror keeps A, first by name.
    await dockerCli(['network', 'connect', NET_B, id]);
    const b2 = await ipOn(NET_B);
    await expectState('connected to B again', a, b2);

    await dockerCli(['network', 'disconnect', NET_A, id]);
    await expectState('disconnected from A', b2, b2);

    // All of it came from events: the one reconciliation is the one at start.
    assert.equal(await suite.daemon!.reconciliations(), 1);
    assert.equal(suite.daemon!.count('signal handled'), 0);
  });
});
