import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hameshEntry, hameshKeys, isDnsName } from '../../src/hamesh/layout';
import { hameshClaims } from '../../src/hamesh/port-claims';
import type { Service } from '../../src/registrator/service';

function service(attrs: Record<string, string>): Service {
  return {
    id: 'h1:app:80',
    name: 'app',
    port: 8080,
    ip: '10.0.0.5',
    tags: [],
    attrs,
    origin: {
      containerId: 'a'.repeat(64),
      containerName: 'app',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'app',
    },
  };
}

const B = '/services/app/h1:app:80/';

describe('hamesh layout (docs/registrator.md, "HaMesh")', () => {
  const accepted: Array<[string, Record<string, string>, Record<string, string>]> = [
    ['default mode is tcp', {}, { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' }],
    [
      'http with two domains, trimmed and lowercased',
      { mode: 'http', domains: 'a.com, WWW.B.com' },
      {
        [`${B}address`]: '10.0.0.5',
        [`${B}port`]: '8080',
        [`${B}mode`]: 'http',
        [`${B}domains/a.com`]: 'a.com',
        [`${B}domains/www.b.com`]: 'www.b.com',
      },
    ],
    [
      'tcp with external and internal port: the tree without them (they are claimed, see below)',
      { mode: 'tcp', external_port: '5432', internal_port: '15432' },
      { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' },
    ],
    ['mode in capitals', { mode: 'TCP' }, { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' }],
    [
      'duplicate domains written once',
      { mode: 'http', domains: 'a.com,a.com' },
      { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'http', [`${B}domains/a.com`]: 'a.com' },
    ],
  ];
  for (const [name, attrs, expected] of accepted) {
    it(name, () => assert.deepEqual(Object.fromEntries(hameshKeys('services', service(attrs))), expected));
  }

  // Metadata a mode does not use: the service registers without it, and a note says so.
  const noted: Array<[string, Record<string, string>, Record<string, string>, string[]]> = [
    [
      'an empty SERVICE_MODE is tcp, as an absent one',
      { mode: '' },
      { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' },
      [],
    ],
    ['a blank SERVICE_MODE is tcp too', { mode: '  ' }, { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' }, []],
    [
      'tcp with SERVICE_DOMAINS, even bad ones: registered, the domains left out with a note',
      { mode: 'tcp', domains: 'bad_domain!.com' },
      { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' },
      ['SERVICE_DOMAINS is for http services; a tcp service does not use it (left out)'],
    ],
    [
      'http with SERVICE_EXTERNAL_PORT and SERVICE_INTERNAL_PORT: registered, the ports left out with a note each',
      { mode: 'http', domains: 'a.com', external_port: '5432', internal_port: 'nonsense' },
      { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'http', [`${B}domains/a.com`]: 'a.com' },
      [
        'SERVICE_EXTERNAL_PORT is for tcp services; SERVICE_MODE=http does not use it (left out)',
        'SERVICE_INTERNAL_PORT is for tcp services; SERVICE_MODE=http does not use it (left out)',
      ],
    ],
    [
      'tcp with its ports: nothing to note',
      { external_port: '5432' },
      { [`${B}address`]: '10.0.0.5', [`${B}port`]: '8080', [`${B}mode`]: 'tcp' },
      [],
    ],
  ];
  for (const [name, attrs, expected, notes] of noted) {
    it(name, () => {
      assert.deepEqual(Object.fromEntries(hameshKeys('services', service(attrs))), expected);
      const entry = hameshEntry(service(attrs));
      assert.ok(!('rejected' in entry));
      assert.deepEqual(entry.notes, notes);
    });
  }

  const rejected: Array<[string, Record<string, string>, RegExp]> = [
    ['http without domains', { mode: 'http' }, /SERVICE_MODE=http needs SERVICE_DOMAINS/],
    ['unknown mode', { mode: 'udp' }, /unknown SERVICE_MODE "udp"/],
    ['invalid domain', { mode: 'http', domains: 'a.com,bad_domain!.com' }, /"bad_domain!.com" in SERVICE_DOMAINS is not a valid DNS name/],
    ['domain label starting with a hyphen', { mode: 'http', domains: '-a.com' }, /not a valid DNS name/],
    ['non-numeric external port', { external_port: 'http' }, /SERVICE_EXTERNAL_PORT "http" is not a port/],
    ['external port out of range', { external_port: '70000' }, /SERVICE_EXTERNAL_PORT "70000"/],
    ['internal port zero', { internal_port: '0' }, /SERVICE_INTERNAL_PORT "0"/],
  ];
  for (const [name, attrs, pattern] of rejected) {
    it(`rejects ${name}`, () => {
      const entry = hameshEntry(service(attrs));
      assert.ok('rejected' in entry);
      assert.match(entry.rejected, pattern);
      assert.deepEqual(hameshKeys('services', service(attrs)), []);
    });
  }

  it("an external and an internal port are claims: one range per port, the service's claim keyed by its URI-encoded name/id", () => {
    const claims = hameshClaims('services', service({ external_port: '5432', internal_port: '15432' }));
    assert.deepEqual(claims, [
      {
        range: '/_registrator/claims/hamesh/services/external_port/5432/',
        key: '/_registrator/claims/hamesh/services/external_port/5432/app%2Fh1%3Aapp%3A80',
        entry: [`${B}external_port`, '5432'],
        what: 'SERVICE_EXTERNAL_PORT 5432',
      },
      {
        range: '/_registrator/claims/hamesh/services/internal_port/15432/',
        key: '/_registrator/claims/hamesh/services/internal_port/15432/app%2Fh1%3Aapp%3A80',
        entry: [`${B}internal_port`, '15432'],
        what: 'SERVICE_INTERNAL_PORT 15432',
      },
    ]);
    assert.deepEqual(
      hameshClaims('services', service({ mode: 'http', domains: 'a.com', external_port: '5432' })),
      [],
      'http services bind no such port',
    );
    assert.deepEqual(hameshClaims('services', service({})), []);
  });

  it('knows DNS names', () => {
    assert.ok(isDnsName('a-b.example.com'));
    assert.ok(!isDnsName('a..com'));
    assert.ok(!isDnsName(`${'a'.repeat(64)}.com`));
    assert.ok(!isDnsName('ünicode.com'));
  });
});
