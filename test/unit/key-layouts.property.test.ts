/**
 * Properties of the service model and every registry's key layout, on generated containers (both
 * engines' inspect shapes, `SERVICE_*` env and labels of any text, any ports): the hand-picked cases
 * are in service-model.test.ts and hamesh-layout.test.ts; a counterexample found here joins them.
 */
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import { hostPort } from '../../src/registrator/address';
import type { BackendContext } from '../../src/registrator/backend';
import { createEtcdBackend } from '../../src/registrator/backends/etcd';
import { CLAIMS_ROOT } from '../../src/hamesh/port-claims';
import { createHameshBackend } from '../../src/registrator/backends/hamesh';
import { createSkydns2Backend, skydnsRecord } from '../../src/registrator/backends/skydns2';
import { ConsulAgentBackend } from '../../src/registrator/consul/agent-backend';
import type { ConsulClient } from '../../src/registrator/consul/client';
import { ConsulKvBackend } from '../../src/registrator/consul/kv-backend';
import { OWNER_HOST_KEY } from '../../src/registrator/consul/meta';
import type { EtcdKvBackend } from '../../src/registrator/etcd-kv-backend';
import { parseRegistryUri } from '../../src/registrator/schemes';
import type { Service, ServiceModelOptions } from '../../src/registrator/service';
import { metadataForPort, readContainerMetadata } from '../../src/registrator/service-metadata';
import { containerServices } from '../../src/registrator/service-model';
import { parseContainer } from '../../src/docker/container';
import { segmentProblem } from '../../src/key-segment';
import { inspectInput, modelOptions, toInspect, type InspectInput } from '../support/inspect-arbitraries';
import { silentLogger } from '../support/log';

/** Runs per property in `npm test`: fixed, so a run's cost is known (a larger count can be run by hand). */
const RUNS = { model: 1000, layouts: 500, distinct: 300, records: 500 };

const OWNERS = '/_registrator/owners/';

/** What a backend factory needs, without an etcd: the layouts are pure, nothing is sent. */
function context(host: string): BackendContext {
  return {
    host,
    etcdFor: () => ({ client: {} as Etcd3, shared: true }),
    readOnly: true,
    requestReconcile: () => undefined,
    log: silentLogger,
  };
}

/** The etcd-based registries under test: their URI, their root and how a service key reads back. */
const ETCD_REGISTRIES = [
  { uri: 'etcd:///services', root: '/services/', tree: false, make: createEtcdBackend },
  { uri: 'etcd:///team/services', root: '/team/services/', tree: false, make: createEtcdBackend },
  { uri: 'skydns2:///skydns.local', root: '/skydns/local/skydns/', tree: false, make: createSkydns2Backend },
  { uri: 'hamesh:///mesh', root: '/mesh/', tree: true, make: createHameshBackend },
] as const;

/** Fields of a hamesh service tree (docs/registrator.md, "HaMesh"); `domains/<domain>` besides. */
const HAMESH_FIELDS = new Set(['address', 'port', 'mode', 'external_port', 'internal_port']);

/** A key as a consumer that joins paths reads it: inside `root`, every segment a name (not empty, `.` or `..`). */
function insidePrefix(key: string, root: string): boolean {
  const rest = key.slice(root.length).split('/');
  return key.startsWith(root) && posix.normalize(key) === key && rest.every((s) => s !== '' && s !== '.' && s !== '..');
}

/** `<root><name>/<id>[/<field>]` read back by the documented layout; undefined when it does not fit. */
function readServiceKey(key: string, root: string, tree: boolean): { name: string; id: string; field: string } | undefined {
  if (!key.startsWith(root)) return undefined;
  const [name, id, ...field] = key.slice(root.length).split('/');
  if (id === undefined) return undefined;
  if (!tree) return field.length === 0 ? { name, id, field: '' } : undefined;
  const known = (field.length === 1 && HAMESH_FIELDS.has(field[0])) || (field.length === 2 && field[0] === 'domains');
  return known ? { name, id, field: field.join('/') } : undefined;
}

/** `/_registrator/owners/<host>/<scope>/<container id>/<service id, URI-encoded>`, read from both ends. */
function readRecordKey(key: string): { host: string; scope: string; containerId: string; id: string } | undefined {
  if (!key.startsWith(OWNERS)) return undefined;
  const parts = key.slice(OWNERS.length).split('/');
  if (parts.length < 4) return undefined;
  return { host: parts[0], scope: parts.slice(1, -2).join('/'), containerId: parts.at(-2)!, id: decodeURIComponent(parts.at(-1)!) };
}

/** `/_registrator/claims/hamesh/<prefix>/<external_port|internal_port>/<n>/<URI-encoded name/id>`. */
function readClaimKey(key: string, prefix: string): { attr: string; port: string; name: string; id: string } | undefined {
  const root = `${CLAIMS_ROOT}/${prefix}/`;
  if (!key.startsWith(root)) return undefined;
  const parts = key.slice(root.length).split('/');
  if (parts.length !== 3) return undefined;
  const decoded = decodeURIComponent(parts[2]).split('/');
  return decoded.length === 2 ? { attr: parts[0], port: parts[1], name: decoded[0], id: decoded[1] } : undefined;
}

/** Every put one registration makes in an etcd-based registry, with the ownership record. */
function etcdPuts(backend: EtcdKvBackend, service: Service): Array<{ key: string; value: string }> {
  return backend.registerOps(service).flatMap((op) => ('put' in op ? [{ key: op.put, value: op.value }] : []));
}

/** A Consul client that answers every call as Consul would, and records what it was sent. */
function recordingConsul(host: string): { client: ConsulClient; calls: Array<{ method: string; path: string; body?: unknown }> } {
  const calls: Array<{ method: string; path: string; body?: unknown }> = [];
  const answer = (method: string, path: string, options: { json?: unknown; raw?: string } = {}) => {
    calls.push({ method, path, body: options.json ?? options.raw });
    if (method === 'PUT') return true;
    // GET /v1/agent/service/<id>: held by this host, so deregistration goes ahead.
    return path.startsWith('/v1/agent/service/') ? { Meta: { [OWNER_HOST_KEY]: host } } : undefined;
  };
  const client = {
    json: async (method: string, path: string, options?: { json?: unknown; raw?: string }) => answer(method, path, options),
    request: async (method: string, path: string, options?: { json?: unknown; raw?: string }) => {
      answer(method, path, options);
      return { status: 200, body: '' };
    },
    close: () => undefined,
  };
  return { client: client as unknown as ConsulClient, calls };
}

/** The KV key of a `/v1/kv/<key>` path, as Consul decodes it. */
function kvKeyOf(path: string): string {
  assert.ok(path.startsWith('/v1/kv/'), path);
  return path
    .slice('/v1/kv/'.length)
    .split('/')
    .map((s) => decodeURIComponent(s))
    .join('/');
}

function services(input: InspectInput, options: ServiceModelOptions): { services: Service[]; warnings: string[] } {
  return containerServices(parseContainer(toInspect(input)), options);
}

/** Whether the model leaves this port out on purpose (SERVICE_IGNORE, -explicit without a name). */
function leftOutOnPurpose(input: InspectInput, options: ServiceModelOptions, port: number): boolean {
  const { values } = metadataForPort(readContainerMetadata(input.env, input.labels), port);
  const ignore = values.ignore;
  if (ignore !== undefined && !['', 'false', '0', 'no'].includes(ignore.trim().toLowerCase())) return true;
  return options.explicit && (values.name ?? '').trim() === '';
}

describe('key layouts, properties (fast-check)', () => {
  it(`the model never throws, every service's name and ID is one key segment, and every published port it skips has a reason (${RUNS.model} runs)`, () => {
    fc.assert(
      fc.property(
        inspectInput().filter((i) => i.network === 'bridge'),
        modelOptions.map((o) => ({ ...o, internal: false, useIpFromLabel: '', hostIp: '10.0.0.5' })),
        (input, options) => {
          const result = services(input, options);
          assert.ok(!result.warnings.some((w) => w.includes('could not be turned into services')), result.warnings.join('\n'));
          for (const s of result.services) {
            assert.equal(segmentProblem(s.name), undefined, `name ${JSON.stringify(s.name)}`);
            assert.equal(segmentProblem(s.id), undefined, `id ${JSON.stringify(s.id)}`);
          }
          for (const spec of input.ports) {
            const first = spec.bindings?.find((b) => !b.HostIp.includes(':')) ?? spec.bindings?.[0];
            const match = /^(\d+)\/(tcp|udp)$/.exec(spec.key);
            if (!match || !first?.HostPort) continue; // not a published port: nothing to register
            const [port, proto] = [Number(match[1]), match[2]];
            if (port < 1 || port > 65535) {
              assert.ok(
                result.warnings.some((w) => w.includes(`port ${JSON.stringify(spec.key)} is outside 1-65535`)),
                spec.key,
              );
              continue;
            }
            if (result.services.some((s) => s.origin.exposedPort === port && s.origin.proto === proto)) continue;
            if (leftOutOnPurpose(input, options, port)) continue;
            const label = `port ${port}/${proto}`;
            assert.ok(
              result.warnings.some((w) => w.includes(label)),
              `${label} gave no service and no warning says why: ${JSON.stringify(result.warnings)}`,
            );
          }
        },
      ),
      { numRuns: RUNS.model },
    );
  });

  it(`every key each registry writes reads back by its layout to the same name, ID and field, inside its prefix (${RUNS.layouts} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(inspectInput(), modelOptions, async (input, options) => {
        const { services: all } = services(input, options);
        for (const registry of ETCD_REGISTRIES) {
          const uri = parseRegistryUri(registry.uri);
          const backend = registry.make(uri, context(options.host)) as EtcdKvBackend;
          for (const service of all) {
            if (backend.reject(service)) continue;
            for (const { key, value } of etcdPuts(backend, service)) {
              if (key.startsWith(OWNERS)) continue; // ownership records: the next property
              if (key.startsWith(`${CLAIMS_ROOT}/`)) {
                const claim = readClaimKey(key, uri.path);
                assert.deepEqual(claim && { name: claim.name, id: claim.id }, { name: service.name, id: service.id }, key);
                assert.ok(insidePrefix(key, `${CLAIMS_ROOT}/${uri.path}/`), key);
                continue;
              }
              const read = readServiceKey(key, registry.root, registry.tree);
              assert.ok(read, `${registry.uri}: ${JSON.stringify(key)} does not fit the layout`);
              assert.deepEqual({ name: read.name, id: read.id }, { name: service.name, id: service.id }, key);
              assert.ok(insidePrefix(key, registry.root), `${registry.uri}: ${JSON.stringify(key)} is not inside ${registry.root}`);
              if (read.field === '') {
                const expected = uri.scheme === 'skydns2' ? skydnsRecord(service) : hostPort(service.ip, service.port);
                assert.equal(value, expected, key);
              }
              if (read.field === 'address') assert.equal(value, service.ip, key);
              if (read.field === 'port') assert.equal(value, String(service.port), key);
              if (read.field.startsWith('domains/')) assert.equal(value, read.field.slice('domains/'.length), key);
            }
          }
          await backend.close?.();
        }

        const kv = recordingConsul(options.host);
        const kvBackend = new ConsulKvBackend(kv.client, { prefix: 'services', host: options.host, description: 'consulkv:///services' });
        for (const service of all) {
          kv.calls.length = 0;
          await kvBackend.register(service);
          const keys = kv.calls.map((c) => kvKeyOf(c.path)).filter((k) => !k.startsWith('_registrator/'));
          assert.equal(keys.length, 1, JSON.stringify(keys));
          const [name, id, ...rest] = keys[0].slice('services/'.length).split('/');
          assert.deepEqual({ name, id, rest }, { name: service.name, id: service.id, rest: [] }, keys[0]);
          assert.ok(insidePrefix(`/${keys[0]}`, '/services/'), keys[0]);
        }

        const agent = recordingConsul(options.host);
        const agentBackend = new ConsulAgentBackend(agent.client, { host: options.host, description: 'consul://', log: silentLogger });
        for (const service of all) {
          if (agentBackend.reject(service)) continue;
          agent.calls.length = 0;
          await agentBackend.register(service);
          await agentBackend.deregister(service);
          const registration = agent.calls.find((c) => c.path === '/v1/agent/service/register')?.body as { ID: string; Name: string };
          assert.deepEqual({ id: registration.ID, name: registration.Name }, { id: service.id, name: service.name });
          for (const { path } of agent.calls.filter((c) => c.path.startsWith('/v1/agent/service/'))) {
            if (path === '/v1/agent/service/register') continue;
            // `/v1/agent/service/<id>` and `/v1/agent/service/deregister/<id>`: the ID is the one last segment.
            const parts = path.split('/');
            assert.equal(decodeURIComponent(parts.at(-1)!), service.id, path);
            assert.ok(parts.length === 5 || (parts.length === 6 && parts[4] === 'deregister'), path);
          }
        }
        await agentBackend.close();
      }),
      { numRuns: RUNS.layouts },
    );
  });

  it(`two different services of one host never write the same key, nor share an ownership record (${RUNS.distinct} runs)`, () => {
    const containers = fc.uniqueArray(inspectInput(), { minLength: 2, maxLength: 4, selector: (i) => i.name });
    fc.assert(
      fc.property(
        containers.filter((cs) => new Set(cs.map((c) => c.id)).size === cs.length),
        modelOptions,
        (inputs, options) => {
          const all = inputs.flatMap((input) => {
            const own = services(input, options).services;
            // Within one container every service has its own ID.
            assert.equal(new Set(own.map((s) => s.id)).size, own.length, JSON.stringify(own.map((s) => s.id)));
            return own;
          });
          for (const registry of ETCD_REGISTRIES) {
            const backend = registry.make(parseRegistryUri(registry.uri), context(options.host)) as EtcdKvBackend;
            // A key names one registration (name and ID; two containers given one SERVICE_ID and name are one, the later wins);
            // an ownership record names one container's service.
            const owner = new Map<string, string>();
            for (const service of all) {
              if (backend.reject(service)) continue;
              for (const { key } of etcdPuts(backend, service)) {
                const who = key.startsWith(OWNERS) ? `${service.origin.containerId}\0${service.id}` : `${service.name}\0${service.id}`;
                const before = owner.get(key);
                assert.ok(before === undefined || before === who, `${registry.uri}: ${JSON.stringify(key)} is written by two services`);
                owner.set(key, who);
              }
            }
          }
        },
      ),
      { numRuns: RUNS.distinct },
    );
  });

  it(`the ownership record of a service decodes back to its host, registry, container and ID (${RUNS.records} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(inspectInput(), modelOptions, async (input, options) => {
        const { services: all } = services(input, options);
        for (const registry of ETCD_REGISTRIES) {
          const uri = parseRegistryUri(registry.uri);
          const backend = registry.make(uri, context(options.host)) as EtcdKvBackend;
          for (const service of all) {
            if (backend.reject(service)) continue;
            const records = etcdPuts(backend, service).filter((p) => p.key.startsWith(OWNERS));
            assert.equal(records.length, 1);
            assert.deepEqual(readRecordKey(records[0].key), {
              host: options.host,
              scope: `${uri.scheme}/${uri.path}`,
              containerId: service.origin.containerId,
              id: service.id,
            });
            assert.equal(JSON.parse(records[0].value).id, service.id);
          }
        }
        // Consul KV files its records by service ID: `_registrator/owners/<host>/consulkv/<prefix>/<id, URI-encoded>`.
        const kv = recordingConsul(options.host);
        const kvBackend = new ConsulKvBackend(kv.client, { prefix: 'services', host: options.host, description: 'consulkv:///services' });
        for (const service of all) {
          kv.calls.length = 0;
          await kvBackend.register(service);
          const record = kv.calls.map((c) => kvKeyOf(c.path)).find((k) => k.startsWith('_registrator/'))!;
          const parts = record.split('/');
          assert.deepEqual(
            { host: parts[2], registry: parts.slice(3, -1).join('/'), id: decodeURIComponent(parts.at(-1)!) },
            { host: options.host, registry: 'consulkv/services', id: service.id },
            record,
          );
        }
      }),
      { numRuns: RUNS.records },
    );
  });

  it('generates the names and IDs that break layouts often enough to matter', () => {
    // Guards the generators: without bad names in the input the properties above prove little.
    const sample = fc.sample(fc.tuple(inspectInput(), modelOptions), { numRuns: 300, seed: 28 });
    const rejected = sample.filter(([input, options]) =>
      services(input, options).warnings.some((w) => w.includes('a name or ID is one key segment')),
    ).length;
    assert.ok(rejected >= 20, `only ${rejected} of 300 containers had a name or ID rejected`);
  });
});
