import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daemonSuite } from '../support/daemon-suite';
import { dockerCli, TEST_IMAGE } from '../support/docker';
import { waitFor } from '../support/wait';

const HOST = `net-${process.pid}`;
const IP = '10.9.8.6';
const FRONT = `srnet-front-${process.pid}`;
const BACK = `srnet-back-${process.pid}`;

/** docs/registrator.md, "Choosing the network": SERVICE_NETWORK and -network against real dockerd and etcd. */
describe('choosing the network: SERVICE_NETWORK and -network', () => {
  const suite = daemonSuite('net', HOST);
  const { containers } = suite;

  before(async () => {
    for (const net of [FRONT, BACK]) await dockerCli(['network', 'create', '--label', containers.label, net]);
  });
  after(async () => {
    await containers.removeAll();
    for (const net of [FRONT, BACK]) await dockerCli(['network', 'rm', net]).catch(() => undefined);
  });

  /** A container on FRONT, then connected to BACK too, running httpd on 80 (published unless `published` is false). */
  async function onBoth(name: string, args: string[], published = true): Promise<string> {
    const id = await containers.run([
      '--name',
      name,
      '--network',
      FRONT,
      ...(published ? ['-p', '80'] : ['--expose', '80']),
      ...args,
      TEST_IMAGE,
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    await dockerCli(['network', 'connect', BACK, id]);
    return id;
  }

  async function addressOn(id: string, network: string): Promise<string> {
    return (await containers.inspect(id)).NetworkSettings.Networks[network].IPAddress;
  }

  /** This host's keys under /services/ for these container names. */
  async function registered(...names: string[]): Promise<Record<string, string>> {
    const tree = await suite.etcd.tree('/services/');
    return Object.fromEntries(Object.entries(tree).filter(([k]) => names.some((n) => k.includes(`/${HOST}:${n}:`))));
  }

  async function expectRegistered(what: string, expected: Record<string, string>, ...names: string[]): Promise<void> {
    await waitFor(what, async () => JSON.stringify(await registered(...names)) === JSON.stringify(expected)).catch(async (err) => {
      assert.deepEqual(await registered(...names), expected, String(err));
    });
  }

  it('-internal: SERVICE_NETWORK names each of two networks in turn; a network the container is not on is a warning until it joins', async () => {
    await suite.start(['-internal', '-ip', IP, 'etcd:///services']);
    const a = `neta-${process.pid}`;
    const b = `netb-${process.pid}`;
    const c = `netc-${process.pid}`;
    const onFront = await onBoth(a, ['-e', 'SERVICE_NETWORK=' + FRONT, '-e', 'SERVICE_NAME=a']);
    const onBack = await onBoth(b, ['--label', 'SERVICE_NETWORK=' + BACK, '-e', 'SERVICE_NAME=b']);
    // Names a network it is not on yet: registered at the address it has without one (its own network's), with a warning.
    const later = `srnet-later-${process.pid}`;
    const joins = await onBoth(c, ['-e', `SERVICE_NETWORK=${later}`, '-e', 'SERVICE_NAME=c']);
    await expectRegistered(
      'each at its own network',
      {
        [`/services/a/${HOST}:${a}:80`]: `${await addressOn(onFront, FRONT)}:80`,
        [`/services/b/${HOST}:${b}:80`]: `${await addressOn(onBack, BACK)}:80`,
        [`/services/c/${HOST}:${c}:80`]: `${await addressOn(joins, FRONT)}:80`,
      },
      a,
      b,
      c,
    );
    await suite.daemon!.waitForLog('service skipped', 1, 10_000, (l) =>
      String(l.reason).includes(`network "${later}" (SERVICE_NETWORK) is not one the container has an address on (${BACK}, ${FRONT})`),
    );
    // It joins the network it names: the connect event moves its registration there.
    await dockerCli(['network', 'create', '--label', containers.label, later]);
    try {
      await dockerCli(['network', 'connect', later, joins]);
      await expectRegistered(
        'moved to the network it names',
        { [`/services/c/${HOST}:${c}:80`]: `${await addressOn(joins, later)}:80` },
        c,
      );
    } finally {
      await dockerCli(['network', 'disconnect', '-f', later, joins]).catch(() => undefined);
      await dockerCli(['network', 'rm', later]).catch(() => undefined);
    }
  });

  it('a default -network, with and without -internal; SERVICE_NETWORK beats it; the mirror is unchanged', async () => {
    // Without -internal, a container on user-defined networks only registers its address on the network named.
    await suite.start(['-network', BACK, '-ip', IP, 'etcd:///services']);
    const d = `netd-${process.pid}`;
    const e = `nete-${process.pid}`;
    const f = `netf-${process.pid}`;
    const byDefault = await onBoth(d, ['-e', 'SERVICE_NAME=d']);
    const named = await onBoth(e, ['-e', 'SERVICE_NAME=e', '-e', `SERVICE_NETWORK=${FRONT}`], false);
    // On the default bridge: its published port at the host address, as without -network.
    const bridged = await containers.run(['--name', f, '-e', 'SERVICE_NAME=f', '-p', '80', TEST_IMAGE, 'httpd', '-f', '-p', '80']);
    await expectRegistered(
      'at the default network, the named one, and the host',
      {
        [`/services/d/${HOST}:${d}:80`]: `${await addressOn(byDefault, BACK)}:80`,
        [`/services/e/${HOST}:${e}:80`]: `${await addressOn(named, FRONT)}:80`,
        [`/services/f/${HOST}:${f}:80`]: `${IP}:${await suite.hostPort(bridged, '80/tcp')}`,
      },
      d,
      e,
      f,
    );
    // The mirror keeps its own rule: the first network by name that has an address.
    const first = [FRONT, BACK].sort()[0];
    assert.equal(await suite.etcd.client.get(`/registry/containers/${byDefault}/network/ip`).string(), await addressOn(byDefault, first));
    assert.equal(await suite.etcd.client.get(`/registry/containers/${named}/network/ip`).string(), await addressOn(named, first));
    await suite.daemon!.kill();

    // -internal with -network: the default-bridge container is not on it: its bridge address, with a warning.
    await suite.start(['-internal', '-network', BACK, '-ip', IP, 'etcd:///services']);
    const bridgeIp = (await containers.inspect(bridged)).NetworkSettings.Networks.bridge.IPAddress;
    await expectRegistered(
      'at the default network under -internal',
      {
        [`/services/d/${HOST}:${d}:80`]: `${await addressOn(byDefault, BACK)}:80`,
        [`/services/e/${HOST}:${e}:80`]: `${await addressOn(named, FRONT)}:80`,
        [`/services/f/${HOST}:${f}:80`]: `${bridgeIp}:80`,
      },
      d,
      e,
      f,
    );
    await suite.daemon!.waitForLog('service skipped', 1, 10_000, (l) =>
      String(l.reason).includes(`network "${BACK}" (-network) is not one the container has an address on (bridge)`),
    );
  });
});
