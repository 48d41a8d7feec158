import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalEntry, chainRules, parseSavedEntries, serviceEntries } from '../../src/registrator/netfilter/entries';
import type { Service } from '../../src/registrator/service';

function service(origin: Partial<Service['origin']>, ip = '10.0.0.5'): Service {
  return {
    id: 'h1:web:80',
    name: 'web',
    port: 8080,
    ip,
    tags: [],
    attrs: {},
    origin: {
      containerId: 'c',
      containerName: 'web',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: '',
      ...origin,
    },
  };
}

describe('netfilter entries', () => {
  it('uses the container IPv6 address and exposed port, whatever address the service registers', () => {
    assert.deepEqual(serviceEntries(service({ ipv6: 'fd00:dead::2' })), { port: 'fd00:dead::2,tcp:80', ping: 'fd00:dead::2,icmpv6:128/0' });
    assert.deepEqual(serviceEntries(service({ ipv6: 'fd00:dead::2', proto: 'udp', exposedPort: 53 })), {
      port: 'fd00:dead::2,udp:53',
      ping: 'fd00:dead::2,icmpv6:128/0',
    });
  });

  it('has nothing for a container without IPv6, even when the service address is IPv6', () => {
    assert.equal(serviceEntries(service({})), undefined);
    assert.equal(serviceEntries(service({}, 'fd00::5')), undefined);
  });

  it('compares entries as ipset prints them', () => {
    assert.equal(canonicalEntry('FD00:DEAD:0:0::2,tcp:80'), 'fd00:dead::2,tcp:80');
    assert.equal(canonicalEntry('fd00:dead::2,icmpv6:128/0'), 'fd00:dead::2,ipv6-icmp:echo-request');
    assert.equal(canonicalEntry('fd00:dead::2,ipv6-icmp:echo-request'), 'fd00:dead::2,ipv6-icmp:echo-request');
    assert.equal(canonicalEntry('fd00:0:0:0:0:0:0:1,UDP:53'), 'fd00::1,udp:53');
  });

  it('reads the entries of one set from ipset save output', () => {
    const saved = [
      'create cp hash:ip,port family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1',
      'add cp fd00:dead::2,tcp:80',
      'add cp fd00:dead::2,ipv6-icmp:echo-request',
      'add cpx fd00:dead::3,tcp:80',
      '',
    ].join('\n');
    assert.deepEqual(parseSavedEntries(saved, 'cp'), ['fd00:dead::2,tcp:80', 'fd00:dead::2,ipv6-icmp:echo-request']);
  });

  it('builds the ACCEPT and DROP rules of docs/registrator.md', () => {
    assert.deepEqual(chainRules('FORWARD_direct', 'containerports'), {
      accept: ['FORWARD_direct', '-o', 'docker0', '-m', 'set', '--match-set', 'containerports', 'dst,dst', '-j', 'ACCEPT'],
      drop: ['FORWARD_direct', '-o', 'docker0', '-j', 'DROP'],
    });
  });
});
