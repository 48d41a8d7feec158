import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, it } from 'node:test';
import winston from 'winston';
import { loadConfig, type Config } from '../../src/config/load';
import { pickHostAddress, pickHostIpv6Address, resolveHostAddresses } from '../../src/registrator/host-address';
import { serviceWriterOptions } from '../../src/writers';

function nic(address: string, family: 'IPv4' | 'IPv6', internal: boolean): NetworkInterfaceInfo {
  return { address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null } as NetworkInterfaceInfo;
}

const INTERFACES = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('fe80::1', 'IPv6', false), nic('192.0.2.10', 'IPv4', false)],
  eth1: [nic('198.51.100.3', 'IPv4', false), nic('2001:db8::3', 'IPv6', false)],
};

describe('pickHostAddress', () => {
  it('uses the first non-loopback address the host name resolved to', () => {
    assert.deepStrictEqual(pickHostAddress(['127.0.1.1', '203.0.113.5'], INTERFACES), { address: '203.0.113.5', source: 'resolved' });
  });
  it('falls back to the first non-internal IPv4 when resolving gave only loopback', () => {
    assert.deepStrictEqual(pickHostAddress(['127.0.1.1', '::1'], INTERFACES), { address: '192.0.2.10', source: 'interface' });
  });
  it('falls back to the first non-internal IPv4 when resolving failed', () => {
    assert.deepStrictEqual(pickHostAddress([], INTERFACES), { address: '192.0.2.10', source: 'interface' });
  });
  it('accepts the numeric family some Node releases reported', () => {
    const numeric = { eth0: [{ ...nic('192.0.2.20', 'IPv4', false), family: 4 as unknown as 'IPv4' }] };
    assert.deepStrictEqual(pickHostAddress([], numeric), { address: '192.0.2.20', source: 'interface' });
  });
  it('ends at loopback when the machine has nothing else', () => {
    assert.deepStrictEqual(pickHostAddress(['127.0.1.1'], { lo: INTERFACES.lo }), { address: '127.0.1.1', source: 'loopback' });
    assert.deepStrictEqual(pickHostAddress([], {}), { address: '127.0.0.1', source: 'loopback' });
  });
});

describe("pickHostIpv6Address: the host's IPv6 address for ports published on :: only", () => {
  const cases: Array<[string, string[], NodeJS.Dict<NetworkInterfaceInfo[]>, ReturnType<typeof pickHostIpv6Address>]> = [
    [
      'the first global IPv6 the host name resolved to',
      ['192.0.2.10', '2001:db8::7', '2001:db8::8'],
      INTERFACES,
      { address: '2001:db8::7', source: 'resolved' },
    ],
    ['a ULA counts (fd00::/8)', ['fd00:1::7'], INTERFACES, { address: 'fd00:1::7', source: 'resolved' }],
    [
      'resolved to IPv4 only: the first non-internal global IPv6 of the machine',
      ['192.0.2.10'],
      INTERFACES,
      { address: '2001:db8::3', source: 'interface' },
    ],
    ['resolving failed: the same', [], INTERFACES, { address: '2001:db8::3', source: 'interface' }],
    [
      'loopback, link-local and IPv4-mapped answers do not count',
      ['::1', 'fe80::9', 'FEBF::1', '::ffff:192.0.2.10', '::'],
      INTERFACES,
      { address: '2001:db8::3', source: 'interface' },
    ],
    ['link-local and internal interfaces do not count', [], { lo: INTERFACES.lo, eth0: INTERFACES.eth0 }, undefined],
    ['a machine without IPv6: none', ['192.0.2.10'], { eth0: [nic('192.0.2.10', 'IPv4', false)] }, undefined],
    [
      'the numeric family some Node releases reported',
      [],
      { eth0: [{ ...nic('2001:db8::4', 'IPv6', false), family: 6 } as unknown as NetworkInterfaceInfo] },
      { address: '2001:db8::4', source: 'interface' },
    ],
  ];
  for (const [name, resolved, interfaces, expected] of cases)
    it(name, () => assert.deepStrictEqual(pickHostIpv6Address(resolved, interfaces), expected));
});

describe('resolveHostAddresses and the writer options', () => {
  const silent = winston.createLogger({ silent: true });
  it('-ip given as IPv6 serves both 0.0.0.0 and :: (nothing resolved)', async () => {
    assert.deepStrictEqual(await resolveHostAddresses('fd00:5::9', 'no-such-host.invalid', silent), {
      wildcard: 'fd00:5::9',
      ipv6: 'fd00:5::9',
    });
  });
  it('-ip given as IPv4 is kept for 0.0.0.0', async () => {
    assert.equal((await resolveHostAddresses('192.0.2.99', 'localhost', silent)).wildcard, '192.0.2.99');
  });
  it('the service model gets both addresses', () => {
    const result = loadConfig(['-ip', '192.0.2.99', '-internal', 'etcd:///services'], {
      DOCKER_HOST: 'unix:///var/run/docker.sock',
      EC_REGISTRATOR_HOST: 'h1',
    });
    const config = (result as { config: Config }).config;
    const options = serviceWriterOptions(config, { wildcard: '192.0.2.99', ipv6: '2001:db8::5' });
    assert.deepStrictEqual(options.model, {
      host: 'h1',
      hostIp: '192.0.2.99',
      hostIpv6: '2001:db8::5',
      internal: true,
      explicit: false,
      tags: '',
      useIpFromLabel: '',
      ttl: 0,
    });
  });
});
