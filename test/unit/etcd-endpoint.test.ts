import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Config, loadConfig } from '../../src/config/load';
import { uriEndpoint } from '../../src/etcd/client';
import { withEtcdPort } from '../../src/etcd/endpoint';
import { parseRegistryUri } from '../../src/registrator/schemes';
import { makeTestPki } from '../support/pki';

/** The etcd endpoints the configuration ends up with for this EC_REGISTRATOR_ETCD_HOSTS. */
function hostsFor(etcdHosts: string, env: NodeJS.ProcessEnv = {}): string[] {
  const result = loadConfig([], { DOCKER_HOST: 'unix:///var/run/docker.sock', EC_REGISTRATOR_ETCD_HOSTS: etcdHosts, ...env });
  assert.equal(result.kind, 'run');
  return (result as { config: Config }).config.etcd.hosts;
}

describe('etcd endpoints without a port mean port 2379 (docs/configuration.md)', () => {
  const cases: Array<[string, string[]]> = [
    ['etcd1', ['http://etcd1:2379']],
    ['etcd1:2380', ['http://etcd1:2380']],
    ['10.0.0.5', ['http://10.0.0.5:2379']],
    ['http://etcd1', ['http://etcd1:2379']],
    ['http://etcd1/', ['http://etcd1:2379']],
    ['https://etcd1', ['https://etcd1:2379']],
    // A URL parser would drop these as the scheme's default port; they are kept as given.
    ['http://etcd1:80', ['http://etcd1:80']],
    ['https://etcd1:443', ['https://etcd1:443']],
    ['[::1]', ['http://[::1]:2379']],
    ['[::1]:2380', ['http://[::1]:2380']],
    ['http://[fd00::5]', ['http://[fd00::5]:2379']],
    ['etcd1:', ['http://etcd1:2379']],
    ['etcd1, etcd2:2380 ,http://etcd3', ['http://etcd1:2379', 'http://etcd2:2380', 'http://etcd3:2379']],
  ];
  for (const [given, expected] of cases) {
    it(`EC_REGISTRATOR_ETCD_HOSTS=${given}`, () => assert.deepEqual(hostsFor(given), expected));
  }

  it('a host without scheme or port under TLS is https://host:2379', async () => {
    const ca = (await makeTestPki('endpoint')).ca;
    assert.deepEqual(hostsFor('etcd1,etcd2:4001', { EC_REGISTRATOR_ETCD_CA: ca }), ['https://etcd1:2379', 'https://etcd2:4001']);
  });

  it('an unbracketed IPv6 address is still refused (its port could not be told apart)', () => {
    assert.throws(() => hostsFor('::1'), /etcd.hosts .*"::1" is not a host:port or http\(s\):\/\/ URL/);
  });
});

describe('etcd-based registry URIs with a host: port 2379 unless given', () => {
  const cases: Array<[string, string, string]> = [
    ['etcd://10.0.0.5/services', 'http://localhost:2379', 'http://10.0.0.5:2379'],
    ['hamesh://etcd1/mesh', 'http://localhost:2379', 'http://etcd1:2379'],
    ['skydns2://etcd1:4001/skydns.local', 'http://localhost:2379', 'http://etcd1:4001'],
    ['hamesh://[::1]/mesh', 'http://localhost:2379', 'http://[::1]:2379'],
    ['etcd://[fd00::5]:2381/services', 'http://localhost:2379', 'http://[fd00::5]:2381'],
    // The URI's connection takes the daemon's scheme (TLS settings).
    ['etcd://10.0.0.5/services', 'https://etcd0:2379', 'https://10.0.0.5:2379'],
  ];
  for (const [uri, daemonEndpoint, expected] of cases) {
    it(`${uri} (daemon on ${daemonEndpoint}) -> ${expected}`, () => {
      assert.equal(uriEndpoint({ hosts: [daemonEndpoint] }, parseRegistryUri(uri).authority), expected);
    });
  }
});

describe('withEtcdPort', () => {
  const cases: Array<[string, string]> = [
    ['etcd1', 'etcd1:2379'],
    ['etcd1:1', 'etcd1:1'],
    ['etcd1:', 'etcd1:2379'],
    ['[::1]', '[::1]:2379'],
    ['[::1]:', '[::1]:2379'],
    ['[::1]:2380', '[::1]:2380'],
    ['::1', '::1'],
  ];
  for (const [given, expected] of cases) it(`${given} -> ${expected}`, () => assert.equal(withEtcdPort(given), expected));
});
