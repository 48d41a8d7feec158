import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { parseContainer } from '../../src/docker/container';
import { createSkydns2Backend } from '../../src/registrator/backends/skydns2';
import { skydnsFields, skydnsNameProblem, skydnsRecord } from '../../src/registrator/backends/skydns2-layout';
import type { EtcdKvBackend } from '../../src/registrator/etcd-kv-backend';
import type { Service } from '../../src/registrator/service';
import { parseRegistryUri } from '../../src/registrator/schemes';
import { ServiceWriter } from '../../src/registrator/service-writer';
import { inspect } from '../fixtures/inspect';
import { silentLogger } from '../support/log';

function service(o: Partial<Pick<Service, 'id' | 'name' | 'attrs' | 'ttl'>> = {}): Service {
  return {
    id: o.id ?? 'web-1',
    name: o.name ?? 'web',
    port: 8080,
    ip: '10.0.0.5',
    tags: [],
    attrs: o.attrs ?? {},
    ...(o.ttl ? { ttl: o.ttl } : {}),
    origin: { containerId: 'c'.repeat(64), containerName: 'web1', hostPort: 8080, exposedPort: 80, proto: 'tcp', hostIp: '', hostname: '' },
  };
}

describe('skydns2 records as CoreDNS reads them', () => {
  const cases: Array<[string, Record<string, string>, number | undefined, string, string[]]> = [
    ['no metadata: host and port, as before', {}, undefined, '{"host":"10.0.0.5","port":8080}', []],
    ['-ttl', {}, 30, '{"host":"10.0.0.5","port":8080,"ttl":30}', []],
    [
      'priority, weight and text, in CoreDNS order, numbers as JSON numbers',
      { priority: '10', weight: ' 5 ', text: 'v=1 a b' },
      30,
      '{"host":"10.0.0.5","port":8080,"priority":10,"weight":5,"text":"v=1 a b","ttl":30}',
      [],
    ],
    [
      '0 and 65535 are numbers CoreDNS takes',
      { priority: '0', weight: '65535' },
      undefined,
      '{"host":"10.0.0.5","port":8080,"priority":0,"weight":65535}',
      [],
    ],
    ['empty values are as absent ones', { priority: '', weight: '  ', text: '' }, undefined, '{"host":"10.0.0.5","port":8080}', []],
    [
      'a bad priority is left out with a note; the rest is written',
      { priority: 'high', weight: '20', text: 'x' },
      undefined,
      '{"host":"10.0.0.5","port":8080,"weight":20,"text":"x"}',
      ['SERVICE_PRIORITY "high" is not a whole number from 0 to 65535 (left out of the skydns2 record)'],
    ],
    [
      'out of range, negative, fractional: each left out with its key named',
      { priority: '65536', weight: '-1' },
      undefined,
      '{"host":"10.0.0.5","port":8080}',
      [
        'SERVICE_PRIORITY "65536" is not a whole number from 0 to 65535 (left out of the skydns2 record)',
        'SERVICE_WEIGHT "-1" is not a whole number from 0 to 65535 (left out of the skydns2 record)',
      ],
    ],
    [
      'a fraction is refused too (CoreDNS fails the lookup on it)',
      { weight: '1.5' },
      undefined,
      '{"host":"10.0.0.5","port":8080}',
      ['SERVICE_WEIGHT "1.5" is not a whole number from 0 to 65535 (left out of the skydns2 record)'],
    ],
    ['text is a string, whatever it holds', { text: '{"a":1}' }, undefined, '{"host":"10.0.0.5","port":8080,"text":"{\\"a\\":1}"}', []],
    ['other attrs stay out of the record', { mode: 'http', check_http: '/' }, undefined, '{"host":"10.0.0.5","port":8080}', []],
  ];
  for (const [name, attrs, ttl, record, notes] of cases) {
    it(name, () => {
      const s = service({ attrs, ttl });
      assert.equal(skydnsRecord(s), record);
      assert.deepEqual(skydnsFields(s).notes, notes);
      assert.deepEqual(JSON.parse(record), skydnsFields(s).fields);
    });
  }
});

describe('skydns2 names CoreDNS can serve', () => {
  const cases: Array<[string, Partial<Service>, string | undefined]> = [
    ['letters, digits and hyphens: served', { name: 'web', id: 'web-1' }, undefined],
    ['an underscore is a DNS label character: served', { name: 'my_web', id: 'a_1' }, undefined],
    [
      'the default ID holds ":"',
      { name: 'web', id: 'node1:web1:80' },
      'service ID "node1:web1:80" holds ":": the SRV target node1:web1:80.web.skydns.local is no host name (letters, digits, hyphens), ' +
        'which resolvers and SRV clients refuse; set SERVICE_ID (e.g. SERVICE_ID=web-80) for CoreDNS to serve it',
    ],
    [
      'an ID with ".": the target is looked up at another key',
      { name: 'web', id: 'a.b' },
      'service ID "a.b" holds ".": CoreDNS looks the SRV target a.b.web.skydns.local up at /skydns/local/skydns/web/b/a, not at this key, ' +
        'so it resolves to nothing; set SERVICE_ID (e.g. SERVICE_ID=web-80) for CoreDNS to serve it',
    ],
    [
      'a name with "." and an ID with ":" and ".": one warning, both fixes',
      { name: 'my.app', id: 'h.example:my.app:80' },
      'service name "my.app" holds ".": CoreDNS looks the name my.app.skydns.local up at /skydns/local/skydns/app/my, not at this key, so it resolves to nothing; ' +
        'service ID "h.example:my.app:80" holds ":" and ".": CoreDNS looks the SRV target h.example:my.app:80.my.app.skydns.local up at ' +
        '/skydns/local/skydns/app/my/app:80/example:my/h, not at this key, so it resolves to nothing; ' +
        'set SERVICE_NAME (e.g. SERVICE_NAME=my-app) and SERVICE_ID (e.g. SERVICE_ID=my-app-80) for CoreDNS to serve it',
    ],
  ];
  for (const [name, o, problem] of cases) {
    it(name, () => assert.equal(skydnsNameProblem(service(o), 'skydns.local'), problem));
  }

  it('the writer warns once per service, naming the container, the service and the fix; the service is still written', () => {
    const uri = parseRegistryUri('skydns2:///skydns.local');
    const backend = createSkydns2Backend(uri, {
      host: 'node1',
      etcdFor: () => ({ client: undefined as unknown as Etcd3, shared: true }),
      requestReconcile: () => undefined,
      log: silentLogger,
    });
    const writer = new ServiceWriter(
      backend,
      {
        model: { host: 'node1', hostIp: '10.0.0.5', internal: false, explicit: false, tags: '', useIpFromLabel: '' },
        deregister: 'always',
      },
      silentLogger,
      'writer.skydns2',
    );
    const info = inspect({
      Name: '/web1',
      Env: ['SERVICE_NAME=web', 'SERVICE_PRIORITY=urgent', 'SERVICE_WEIGHT=7'],
      ExposedPorts: { '80/tcp': {} },
      Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
    });
    const plan = writer.plan({ id: info.Id, container: parseContainer(info) });
    assert.deepEqual(
      plan.actions.map((a) => [a.kind, a.service.id, (backend as EtcdKvBackend).keysOf(a.service), skydnsRecord(a.service)]),
      [['register', 'node1:web1:80', ['/skydns/local/skydns/web/node1:web1:80'], '{"host":"10.0.0.5","port":8080,"weight":7}']],
    );
    assert.deepEqual(plan.warnings, []);
    assert.deepEqual(plan.notes, [
      'web1 port 80/tcp: service ID "node1:web1:80" holds ":": the SRV target node1:web1:80.web.skydns.local is no host name ' +
        '(letters, digits, hyphens), which resolvers and SRV clients refuse; set SERVICE_ID (e.g. SERVICE_ID=web-80) for CoreDNS to serve it',
      'web1 port 80/tcp: SERVICE_PRIORITY "urgent" is not a whole number from 0 to 65535 (left out of the skydns2 record)',
    ]);
  });
});
