import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainer } from '../../src/docker/container';
import { MirrorLayout, mirrorEntry } from '../../src/mirror/keys';
import { ID, inspect } from '../fixtures/inspect';
import { baseEntry } from '../fixtures/mirror-entry';

const layout = new MirrorLayout('registry');
const C = `/registry/containers/${ID}/`;

/** The keys every mirrored container has, for a container named fx on host h1. */
const base = (extra: Record<string, string>, ip?: string, state?: string) => baseEntry(extra, { ip, state });

const cases: Array<{ name: string; container: ReturnType<typeof inspect>; expected: Record<string, string> }> = [
  {
    name: 'no ports, no labels',
    container: inspect(),
    expected: base({}),
  },
  {
    name: 'published tcp and udp, one exposed-only port',
    container: inspect({
      ExposedPorts: { '53/udp': {}, '80/tcp': {}, '9000/tcp': {} },
      Ports: {
        '53/udp': [
          { HostIp: '0.0.0.0', HostPort: '5353' },
          { HostIp: '::', HostPort: '5353' },
        ],
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18081' }],
        '9000/tcp': null,
      },
    }),
    expected: base({
      [`${C}network/ports/53-udp/intPort`]: '53',
      [`${C}network/ports/53-udp/extPort`]: '5353',
      [`${C}network/ports/53-udp/extIp`]: '0.0.0.0',
      [`${C}network/ports/53-udp/proto`]: 'udp',
      [`${C}network/ports/80-tcp/intPort`]: '80',
      [`${C}network/ports/80-tcp/extPort`]: '18081',
      [`${C}network/ports/80-tcp/extIp`]: '127.0.0.1',
      [`${C}network/ports/80-tcp/proto`]: 'tcp',
      [`${C}network/ports/9000-tcp/intPort`]: '9000',
      [`${C}network/ports/9000-tcp/extPort`]: '',
      [`${C}network/ports/9000-tcp/extIp`]: '',
      [`${C}network/ports/9000-tcp/proto`]: 'tcp',
    }),
  },
  {
    name: 'host network: exposed ports from Config, unpublished',
    container: inspect({ Networks: { host: { IPAddress: '' } }, ExposedPorts: { '8080/tcp': {} } }),
    expected: base(
      {
        [`${C}network/ports/8080-tcp/intPort`]: '8080',
        [`${C}network/ports/8080-tcp/extPort`]: '',
        [`${C}network/ports/8080-tcp/extIp`]: '',
        [`${C}network/ports/8080-tcp/proto`]: 'tcp',
      },
      '',
    ),
  },
  {
    name: 'no network at all (--network none)',
    container: inspect({ Networks: { none: { IPAddress: '' } } }),
    expected: base({}, ''),
  },
  {
    name: 'user-defined networks: the IP of the first by name',
    container: inspect({ Networks: { zeta: { IPAddress: '10.9.0.5' }, alpha: { IPAddress: '10.1.0.7' } } }),
    expected: base({}, '10.1.0.7'),
  },
  // network/ip: the default-bridge IP, else the IP of the first network, by name, that has one, else ''
  ...(
    [
      [
        'the first network by name has no IPv4 address (IPv6-only): the next one that has',
        { alpha: { IPAddress: '', GlobalIPv6Address: 'fd00:a::2' }, beta: { IPAddress: '10.2.0.3' } },
        '10.2.0.3',
      ],
      ['networks without any address: ""', { alpha: { IPAddress: '' }, beta: { IPAddress: '' } }, ''],
      [
        'several networks with addresses: the first by name',
        { nb: { IPAddress: '10.2.0.3' }, na: { IPAddress: '10.1.0.3' }, nc: { IPAddress: '10.3.0.3' } },
        '10.1.0.3',
      ],
      ['only the last by name has one', { a: { IPAddress: '' }, b: { IPAddress: '' }, c: { IPAddress: '10.3.0.3' } }, '10.3.0.3'],
      ['no networks at all: ""', {}, ''],
    ] as const
  ).map(([what, Networks, ip]) => ({ name: `network/ip: ${what}`, container: inspect({ Networks }), expected: base({}, ip) })),
  {
    name: 'network/ip: the default-bridge IP comes first, whatever the networks',
    container: inspect({ IPAddress: '172.17.0.9', Networks: { alpha: { IPAddress: '10.1.0.3' }, bridge: { IPAddress: '172.17.0.9' } } }),
    expected: base({}, '172.17.0.9'),
  },
  {
    name: 'labels with dots, slashes, unicode, = and empty values, used as is',
    container: inspect({
      Labels: { 'com.example.role': 'web', 'traefik/http/rule': 'Host(`a.com`)', ключ: 'значение ✓', 'eq=': 'a=b', empty: '' },
    }),
    expected: base({
      [`${C}labels/com.example.role`]: 'web',
      [`${C}labels/traefik/http/rule`]: 'Host(`a.com`)',
      [`${C}labels/ключ`]: 'значение ✓',
      [`${C}labels/eq=`]: 'a=b',
      [`${C}labels/empty`]: '',
      [`/registry/labels/com.example.role/${ID}`]: 'web',
      [`/registry/labels/traefik/http/rule/${ID}`]: 'Host(`a.com`)',
      [`/registry/labels/ключ/${ID}`]: 'значение ✓',
      [`/registry/labels/eq=/${ID}`]: 'a=b',
      [`/registry/labels/empty/${ID}`]: '',
    }),
  },
  {
    name: 'paused container shows state paused',
    container: inspect({ State: { Status: 'paused', Paused: true } }),
    expected: base({}, '172.17.0.2', 'paused'),
  },
];

describe('mirrorEntry: container inspect -> mirror keys', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(Object.fromEntries(mirrorEntry(parseContainer(c.container), 'h1', layout)), c.expected);
    });
  }

  it('uses the configured dir, with or without slashes', () => {
    const keys = [...mirrorEntry(parseContainer(inspect()), 'h1', new MirrorLayout('/svc/mirror/')).keys()];
    const index = `/_registrator/owners/h1/mirror/svc/mirror/${ID}`;
    assert.ok(
      keys.every((k) => k.startsWith('/svc/mirror/') || k === index),
      keys.join(','),
    );
    assert.ok(keys.includes('/svc/mirror/hosts/h1/fx'));
    assert.ok(keys.includes(index), "the index record of the entry, under this host's owners prefix");
  });
});
