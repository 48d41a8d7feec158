import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSkydnsTrees } from '../../src/config/registry-trees';
import { loadConfig } from '../../src/config/load';
import { parseRegistryUri } from '../../src/registrator/schemes';

describe('an etcd:// or hamesh:// prefix inside a skydns2 domain tree', () => {
  const refused = (etcd: string, skydns: string) =>
    `registry URI "${etcd}" writes inside the tree of "${skydns}" (/skydns/local/skydns/), where CoreDNS reads every value as JSON: ` +
    `its values are not, and would break CoreDNS's lookups of the whole domain; give it a prefix outside /skydns/local/skydns/`;
  const cases: Array<[string, string[], string | undefined]> = [
    [
      'inside the tree',
      ['etcd:///skydns/local/skydns/x', 'skydns2:///skydns.local'],
      refused('etcd:///skydns/local/skydns/x', 'skydns2:///skydns.local'),
    ],
    [
      'the tree itself, URI order aside',
      ['skydns2:///skydns.local', 'etcd:///skydns/local/skydns'],
      refused('etcd:///skydns/local/skydns', 'skydns2:///skydns.local'),
    ],
    [
      'hamesh inside it',
      ['hamesh:///skydns/local/skydns/mesh/', 'skydns2:///skydns.local'],
      refused('hamesh:///skydns/local/skydns/mesh/', 'skydns2:///skydns.local'),
    ],
    [
      'the same etcd named by host',
      ['etcd://10.0.0.1:2379/skydns/local/skydns/x', 'skydns2://10.0.0.1:2379/skydns.local'],
      'registry URI "etcd://10.0.0.1:2379/skydns/local/skydns/x" writes inside the tree of "skydns2://10.0.0.1:2379/skydns.local" (/skydns/local/skydns/), ' +
        "where CoreDNS reads every value as JSON: its values are not, and would break CoreDNS's lookups of the whole domain; give it a prefix outside /skydns/local/skydns/",
    ],
    ['beside the tree: fine', ['etcd:///skydns/local/skydnsx', 'skydns2:///skydns.local'], undefined],
    ['another domain: fine', ['etcd:///skydns/local/other/x', 'skydns2:///skydns.local'], undefined],
    ['another etcd: fine', ['etcd://10.0.0.1:2379/skydns/local/skydns/x', 'skydns2:///skydns.local'], undefined],
    ['the usual pair: fine', ['etcd:///services', 'skydns2:///skydns.local', 'hamesh:///mesh'], undefined],
    ['two skydns2 domains, one inside the other (both JSON): fine', ['skydns2:///skydns.local', 'skydns2:///a.skydns.local'], undefined],
  ];
  for (const [name, uris, error] of cases) {
    it(name, () => {
      const parsed = uris.map(parseRegistryUri);
      if (error === undefined) assert.doesNotThrow(() => checkSkydnsTrees(parsed));
      else assert.throws(() => checkSkydnsTrees(parsed), { name: 'ConfigError', message: error });
    });
  }

  it('is a configuration error: loadConfig refuses it, from argv and from EC_REGISTRATOR_URIS alike', () => {
    const message = refused('etcd:///skydns/local/skydns/x', 'skydns2:///skydns.local');
    assert.throws(() => loadConfig(['etcd:///skydns/local/skydns/x', 'skydns2:///skydns.local'], {}), { message });
    assert.throws(() => loadConfig([], { EC_REGISTRATOR_URIS: 'etcd:///skydns/local/skydns/x,skydns2:///skydns.local' }), { message });
  });
});
