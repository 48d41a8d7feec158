import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IKeyValue } from 'etcd3';
import { judgeClaims } from '../../src/ops/check-claims';

function kv(key: string, value: string, lease: string): IKeyValue {
  return { key: Buffer.from(key), value: Buffer.from(value), lease, create_revision: '2', mod_revision: '2', version: '1' };
}

const CLAIM = JSON.stringify({
  host: 'a',
  engine: { id: 'E1', name: 'a' },
  hostname: 'a',
  pid: 1,
  version: '0.1.0',
  since: '2026-12-07T00:00:00Z',
});

describe('check: host-name claims', () => {
  it('counts claims and leased ones; a claim without a lease and a key that is no claim are findings --fix deletes', () => {
    const { counts, findings } = judgeClaims([
      kv('/_registrator/hosts/a', CLAIM, '7587'),
      kv('/_registrator/hosts/b', CLAIM.replace('"a"', '"b"'), '0'),
      kv('/_registrator/hosts/c', 'by hand', '7587'),
    ]);
    assert.deepEqual(counts, { claims: 3, leased: 2 });
    assert.deepEqual(
      findings.map((f) => [f.kind, f.key, f.deletes, f.reason]),
      [
        [
          'host-claim',
          '/_registrator/hosts/b',
          [{ key: '/_registrator/hosts/b' }],
          'host-name claim without a lease: it never ends by itself, so no other daemon can take this host name',
        ],
        [
          'host-claim',
          '/_registrator/hosts/c',
          [{ key: '/_registrator/hosts/c' }],
          'not a host-name claim: no daemon can take this host name while it is there',
        ],
      ],
    );
  });
});
