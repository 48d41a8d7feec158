import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attrsToMeta, ownerMeta, serviceFromMeta, serviceMeta, serviceRecordChunks } from '../../src/registrator/consul/meta';
import { agentRegistration, registrationProblem } from '../../src/registrator/consul/registration';
import type { Service } from '../../src/registrator/service';

function service(attrs: Record<string, string> = {}, extra: Partial<Service> = {}): Service {
  return {
    id: 'h1:web:80',
    name: 'web',
    port: 8080,
    ip: '10.0.0.5',
    tags: ['a', 'b'],
    attrs,
    origin: {
      containerId: 'c'.repeat(64),
      containerName: 'web',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'web',
    },
    ...extra,
  };
}

type Case = { name: string; attrs: Record<string, string>; meta: Record<string, string>; warnings?: string[]; room?: number };

const cases: Case[] = [
  {
    name: 'plain attrs become Meta as they are',
    attrs: { version: '1.2', env: 'prod', 'team-name': 'x_y' },
    meta: { version: '1.2', env: 'prod', 'team-name': 'x_y' },
  },
  {
    name: 'check_* attrs configure checks and stay out of Meta, silently',
    attrs: { check_http: '/h', check_interval: '5s', mode: 'http' },
    meta: { mode: 'http' },
  },
  { name: 'an empty value is kept', attrs: { flag: '' }, meta: { flag: '' } },
  {
    name: 'a key with a dot is left out',
    attrs: { 'a.b': '1', ok: '2' },
    meta: { ok: '2' },
    warnings: ['a.b: Consul meta keys may only hold letters'],
  },
  {
    name: 'a key with a slash or a space is left out',
    attrs: { 'a/b': '1', 'a b': '2' },
    meta: {},
    warnings: ['a b: Consul meta keys may only hold', 'a/b: Consul meta keys may only hold'],
  },
  {
    name: 'a key of 128 characters is kept, 129 is left out',
    attrs: { ['k'.repeat(128)]: '1', ['q'.repeat(129)]: '2' },
    meta: { ['k'.repeat(128)]: '1' },
    warnings: [`${'q'.repeat(129)}: Consul meta keys are at most 128 characters`],
  },
  {
    name: 'the consul- prefix is reserved',
    attrs: { 'consul-version': '1', consulx: '2' },
    meta: { consulx: '2' },
    warnings: ['consul-version: Consul reserves meta keys starting with "consul-"'],
  },
  {
    name: 'registrator_ keys are reserved for the ownership marker',
    attrs: { registrator_host: 'evil' },
    meta: {},
    warnings: ['registrator_host: meta keys starting with "registrator_" are reserved'],
  },
  {
    name: 'a value of 512 bytes is kept, 513 is left out',
    attrs: { a: 'x'.repeat(512), b: 'y'.repeat(513) },
    meta: { a: 'x'.repeat(512) },
    warnings: ['b: Consul meta values are at most 512 bytes'],
  },
  {
    name: 'value length counts bytes: 256 two-byte characters fit, 257 do not',
    attrs: { a: 'é'.repeat(256), b: 'é'.repeat(257) },
    meta: { a: 'é'.repeat(256) },
    warnings: ['b: Consul meta values are at most 512 bytes'],
  },
  {
    name: 'past the room left, keys in sorted order are kept and the rest left out',
    attrs: { d: '4', a: '1', c: '3', b: '2' },
    room: 2,
    meta: { a: '1', b: '2' },
    warnings: ['c: Consul takes at most 64 meta pairs', 'd: Consul takes at most 64 meta pairs'],
  },
];

describe('consul meta: attrs -> Meta', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = attrsToMeta(c.attrs, c.room);
      assert.deepStrictEqual(result.meta, c.meta);
      const got = result.warnings.map((w) => `${w.key}: ${w.reason}`);
      const expected = c.warnings ?? [];
      assert.equal(got.length, expected.length, `warnings: ${JSON.stringify(got)}`);
      expected.forEach((text, i) =>
        assert.ok(got[i].startsWith(text), `${JSON.stringify(got[i])} does not start with ${JSON.stringify(text)}`),
      );
    });
  }

  it('64 attrs: the ownership marker takes its pairs first, the last attrs are left out', () => {
    const attrs = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v']));
    const s = service(attrs);
    const owner = Object.keys(ownerMeta('h1', s)).length;
    const { meta, warnings } = serviceMeta('h1', s);
    assert.equal(Object.keys(meta).length, 64);
    assert.equal(warnings.length, owner);
    assert.equal(meta.k00, 'v');
    assert.equal(meta.k63, undefined);
    assert.equal(meta.registrator_host, 'h1');
  });
});

describe('consul meta: ownership marker', () => {
  it('holds the host and the service as registered, and gives the same service back', () => {
    const s = service({ version: '1' });
    const meta = ownerMeta('h1', s);
    assert.deepStrictEqual(Object.keys(meta), ['registrator_host', 'registrator_service_0']);
    assert.equal(meta.registrator_service_0, JSON.stringify(s));
    assert.equal(JSON.stringify(serviceFromMeta(meta)), JSON.stringify(s));
  });

  it('splits a large service over several pairs of at most 512 characters, and joins them again', () => {
    const s = service({ big: 'z'.repeat(500), other: 'w'.repeat(500) });
    const chunks = serviceRecordChunks(s);
    assert.equal(chunks.length, Math.ceil(JSON.stringify(s).length / 512));
    assert.ok(chunks.length >= 3);
    assert.ok(chunks.every((c) => c.length <= 512));
    assert.equal(JSON.stringify(serviceFromMeta(ownerMeta('h1', s))), JSON.stringify(s));
  });

  it('escapes non-ASCII so every piece is at most 512 bytes, and the service comes back unchanged', () => {
    const s = service({ name: 'café ☕ '.repeat(100) }, { name: 'dienst-ü' });
    const chunks = serviceRecordChunks(s);
    assert.ok(chunks.every((c) => Buffer.byteLength(c) === c.length && c.length <= 512));
    assert.deepStrictEqual(serviceFromMeta(ownerMeta('h1', s)), s);
  });

  it('gives nothing back for missing or broken pieces', () => {
    assert.equal(serviceFromMeta(undefined), undefined);
    assert.equal(serviceFromMeta({ registrator_host: 'h1' }), undefined);
    assert.equal(serviceFromMeta({ registrator_service_0: '{"id":' }), undefined);
    assert.equal(serviceFromMeta({ registrator_service_0: '{"id":"x"}' }), undefined);
    // A gap ends the record: piece 1 without piece 0 is not read.
    assert.equal(serviceFromMeta({ registrator_service_1: JSON.stringify(service()) }), undefined);
  });

  it('refuses a service too large for Meta', () => {
    assert.equal(registrationProblem(service({ a: 'x'.repeat(1000) })), undefined);
    assert.match(
      registrationProblem(service(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(500)]))))!,
      /too large for Consul service Meta/,
    );
  });
});

describe('consul agent registration body', () => {
  it('ID, Name, Tags, Address, Port, Meta with the marker, no check', () => {
    const s = service({ version: '1', 'bad.key': 'x' });
    const { registration, warnings } = agentRegistration(s, 'h1');
    assert.deepStrictEqual(registration, {
      ID: 'h1:web:80',
      Name: 'web',
      Tags: ['a', 'b'],
      Address: '10.0.0.5',
      Port: 8080,
      Meta: { version: '1', registrator_host: 'h1', registrator_service_0: JSON.stringify(s) },
    });
    assert.deepStrictEqual(
      warnings.map((w) => w.key),
      ['bad.key'],
    );
  });

  it('one check goes in Check', () => {
    const { registration } = agentRegistration(service({ check_tcp: 'true' }), 'h1');
    assert.deepStrictEqual(registration.Check, { CheckID: 'service:h1:web:80', TCP: '10.0.0.5:8080', Interval: '10s' });
    assert.equal(registration.Checks, undefined);
  });

  it('two checks go in Checks', () => {
    const s = service({ check_tcp: 'true', check_docker_health: 'true' });
    s.origin.health = 'starting';
    const { registration } = agentRegistration(s, 'h1');
    assert.equal(registration.Check, undefined);
    assert.deepStrictEqual(registration.Checks, [
      { CheckID: 'service:h1:web:80', TCP: '10.0.0.5:8080', Interval: '10s' },
      { CheckID: 'service:h1:web:80:docker-health', Name: 'Docker health', TTL: '30s', Status: 'critical' },
    ]);
  });
});
