import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../src/registrator/service';
import type { LogLine } from '../support/daemon';
import { daemonSuite } from '../support/daemon-suite';
import { TEST_IMAGE } from '../support/docker';
import { expectedMirror, heldFor, sorted } from '../support/mirror';
import { waitFor } from '../support/wait';

const HOST = `names-${process.pid}`;
const IP = '10.6.6.6';
const OWNERS = `/_registrator/owners/${HOST}/`;
const RULE = 'a name or ID is one key segment (not empty, not "." or "..", no "/", no control character)';

/**
 * docs/registrator.md, "Names and IDs": a service name or ID that is not one key segment skips its service in
 * every registry, with a warning naming the container, the metadata key and the value; the container's
 * other services and its mirror entry are written.
 */
describe('service names and IDs that are not one key segment, against real dockerd and etcd', () => {
  const suite = daemonSuite('names', HOST);
  const { containers } = suite;
  const name = (tag: string) => `${tag}-${process.pid}`;
  const run = (tag: string, args: string[]) => containers.run(['--name', name(tag), ...args, TEST_IMAGE, 'sleep', '1000']);

  /**
   * The registries' keys and this host's ownership records, without those of containers that are not this
   * test's (the engine is shared): a container's records say which keys are its own.
   */
  async function tree(ours: ReadonlySet<string>): Promise<Record<string, string>> {
    const all = { ...(await suite.etcd.tree('/services/')), ...(await suite.etcd.tree('/skydns/')), ...(await suite.etcd.tree('/mesh/')) };
    const records = await suite.etcd.tree(OWNERS);
    const foreign: string[] = [];
    for (const [key, value] of Object.entries(records)) {
      const containerId = key.split('/').at(-2)!;
      if (key.includes('/mirror/') || ours.has(containerId)) continue;
      const s = JSON.parse(value) as Service;
      foreign.push(key, `/services/${s.name}/${s.id}`, `/skydns/local/skydns/${s.name}/${s.id}`, `/mesh/${s.name}/${s.id}/`);
    }
    const kept = Object.entries({ ...all, ...records }).filter(
      ([k]) =>
        !foreign.some((f) => (f.endsWith('/') ? k.startsWith(f) : k === f)) && !(k.includes('/mirror/') && !ours.has(k.split('/').at(-1)!)),
    );
    return sorted(Object.fromEntries(kept));
  }

  it('skips each bad name or ID in etcd, skydns2 and hamesh, warns once per registry naming the key and value, writes the rest', async () => {
    await suite.start(['-ip', IP, 'etcd:///services', 'skydns2:///skydns.local', 'hamesh:///mesh']);
    const good = await run('good', ['-e', 'SERVICE_NAME=web', '-p', '80']);
    const slash = await run('slash', ['-e', 'SERVICE_NAME=team/web', '-e', 'SERVICE_ID=x/y', '-p', '80']);
    const climb = await run('climb', ['-e', 'SERVICE_NAME=../../registry/hosts', '-p', '80']);
    const mixed = await run('mixed', ['--label', 'SERVICE_NAME=api', '--label', 'SERVICE_80_ID=..', '-p', '80', '-p', '443']);
    const control = await run('control', ['--label', 'SERVICE_NAME=a\u0001b', '-p', '80']);
    const ids = [good, slash, climb, mixed, control];
    const ours = new Set(ids);
    const pGood = Number(await suite.hostPort(good, '80/tcp'));
    const p443 = Number(await suite.hostPort(mixed, '443/tcp'));

    const goodId = `${HOST}:${name('good')}:80`;
    const apiId = `${HOST}:${name('mixed')}:443`;
    const mesh = (n: string, id: string, port: number) => ({
      [`/mesh/${n}/${id}/address`]: IP,
      [`/mesh/${n}/${id}/mode`]: 'tcp',
      [`/mesh/${n}/${id}/port`]: String(port),
    });
    const registries = {
      [`/services/web/${goodId}`]: `${IP}:${pGood}`,
      [`/services/api-443/${apiId}`]: `${IP}:${p443}`,
      [`/skydns/local/skydns/web/${goodId}`]: JSON.stringify({ host: IP, port: pGood }),
      [`/skydns/local/skydns/api-443/${apiId}`]: JSON.stringify({ host: IP, port: p443 }),
      ...mesh('web', goodId, pGood),
      ...mesh('api-443', apiId, p443),
    };
    // Ownership records: one per registered service and registry, one mirror index record per container.
    const recordKeys = [
      ...['etcd/services', 'skydns2/skydns.local', 'hamesh/mesh'].flatMap((scope) => [
        `${OWNERS}${scope}/${good}/${encodeURIComponent(goodId)}`,
        `${OWNERS}${scope}/${mixed}/${encodeURIComponent(apiId)}`,
      ]),
      ...ids.map((id) => `${OWNERS}mirror/registry/${id}`),
    ].sort();
    const expectedKeys = [...Object.keys(registries), ...recordKeys].sort();
    let last: Record<string, string> = {};
    await waitFor('the registrations and records', async () => {
      last = await tree(ours);
      return JSON.stringify(Object.keys(last)) === JSON.stringify(expectedKeys);
    }).catch((err) => assert.deepEqual(Object.keys(last), expectedKeys, String(err)));
    assert.deepEqual(Object.fromEntries(Object.entries(last).filter(([k]) => !k.startsWith(OWNERS))), sorted(registries));

    // Every container's mirror entry is written, whatever its services' names.
    for (const id of ids) {
      const expected = sorted(expectedMirror(await containers.inspect(id), HOST));
      await waitFor(
        `mirror entry of ${id.slice(0, 12)}`,
        async () => JSON.stringify(sorted(await heldFor(suite.etcd, id))) === JSON.stringify(expected),
      );
    }

    // One warning per registry (etcd, skydns2, hamesh) and rejected service, naming the container, the key and the value.
    const warnings: Array<[string, string, string]> = [
      [slash, 'slash', 'service name "team/web" (SERVICE_NAME) contains "/" and service ID "x/y" (SERVICE_ID) contains "/"'],
      [climb, 'climb', 'service name "../../registry/hosts" (SERVICE_NAME) contains "/"'],
      [mixed, 'mixed', 'service ID ".." (SERVICE_80_ID) is ".."'],
      [control, 'control', 'service name "a\\u0001b" (SERVICE_NAME) contains a control character (U+0001)'],
    ];
    const daemon = suite.daemon!;
    for (const [id, tag, text] of warnings) {
      const reason = `container ${name(tag)} (${id.slice(0, 12)}): ${text}: ${RULE}; port 80/tcp skipped`;
      const match = (l: LogLine) => l.container === id && l.reason === reason;
      await daemon.waitForLog('service skipped', 3, 20_000, match);
      assert.deepEqual(
        daemon.lines
          .filter((l) => l.message === 'service skipped' && l.container === id)
          .map((l) => l.registry)
          .sort(),
        ['etcd:///services', 'hamesh:///mesh', 'skydns2:///skydns.local'],
        `${tag}: ${JSON.stringify(daemon.lines.filter((l) => l.container === id))}`,
      );
    }
    assert.equal(
      daemon.count('service skipped', (l) => l.container === good),
      0,
    );
  });

  it("removes what an earlier release registered under such a name: the registry's key and its ownership record", async () => {
    const old = await run('old', ['-e', 'SERVICE_NAME=team/web', '-e', 'SERVICE_ID=x/y', '-p', '80']);
    const hostPort = Number(await suite.hostPort(old, '80/tcp'));
    // As an earlier release wrote it: the key, then its ownership record (the service as registered).
    const service: Service = {
      id: 'x/y',
      name: 'team/web',
      port: hostPort,
      ip: IP,
      tags: [],
      attrs: {},
      origin: {
        containerId: old,
        containerName: name('old'),
        hostPort,
        exposedPort: 80,
        proto: 'tcp',
        hostIp: '0.0.0.0',
        hostname: old.slice(0, 12),
      },
    };
    await suite.etcd.client.put('/services/team/web/x/y').value(`${IP}:${hostPort}`);
    const record = `${OWNERS}etcd/services/${old}/x%2Fy`;
    await suite.etcd.client.put(record).value(JSON.stringify(service));
    await suite.start(['-ip', IP, 'etcd:///services']);
    await waitFor('the old registration removed', async () => {
      const left = { ...(await suite.etcd.tree('/services/team/')), ...(await suite.etcd.tree(record)) };
      return Object.keys(left).length === 0;
    });
    await suite.daemon!.waitForLog('service skipped', 1, 10_000, (l) => l.container === old);
    assert.equal(
      suite.daemon!.count('service skipped', (l) => l.container === old),
      1,
    );
  });
});
