import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config-error';
import { Config, loadConfig } from '../../src/config/load';
import { serviceWriterOptions } from '../../src/writers';
import { CLI } from '../support/daemon';

const ENV = { DOCKER_HOST: 'unix:///var/run/docker.sock' };

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const result = loadConfig(argv, { ...ENV, ...env });
  assert.equal(result.kind, 'run');
  return (result as { config: Config }).config;
}

function refused(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, { ...ENV, ...env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('configuration: -network and -name-from (docs/configuration.md)', () => {
  it('default to no network and the image name, and then the service model gets neither', () => {
    const c = run([]);
    assert.equal(c.network, '');
    assert.equal(c.nameFrom, 'image');
    const model = serviceWriterOptions(c, { wildcard: '10.0.0.5', ipv6: '' }).model;
    assert.equal('network' in model, false);
    assert.equal('nameFrom' in model, false);
  });

  it('are read from flags (any spelling), env and a config file, flags winning', () => {
    assert.deepEqual(
      [run(['-network', 'backend']).network, run(['--network=backend']).network, run([], { EC_REGISTRATOR_NETWORK: ' backend ' }).network],
      ['backend', 'backend', 'backend'],
    );
    assert.equal(run(['-name-from', 'compose']).nameFrom, 'compose');
    assert.equal(run(['-nameFrom', 'compose']).nameFrom, 'compose');
    assert.equal(run(['--name_from=compose']).nameFrom, 'compose');
    assert.equal(run([], { EC_REGISTRATOR_NAME_FROM: 'compose' }).nameFrom, 'compose');
    assert.equal(run(['-name-from', 'image'], { EC_REGISTRATOR_NAME_FROM: 'compose' }).nameFrom, 'image');
    const file = join(mkdtempSync(join(tmpdir(), 'sr-config-net-')), 'c.json');
    writeFileSync(file, JSON.stringify({ network: 'shop_default', nameFrom: 'compose' }));
    const c = run(['--config', file]);
    assert.deepEqual([c.network, c.nameFrom], ['shop_default', 'compose']);
    const model = serviceWriterOptions(c, { wildcard: '10.0.0.5', ipv6: '' }).model;
    assert.deepEqual([model.network, model.nameFrom], ['shop_default', 'compose']);
  });

  it('take network names and IDs as Docker makes them', () => {
    for (const name of ['shop_default', 'my-net.v2', 'a1b2c3d4e5f6', 'ingress', 'N']) assert.equal(run(['-network', name]).network, name);
  });

  it('refuse what is not a network name, and an unknown name source, with one line', () => {
    for (const bad of ['a b', '/net', '-x', '_net', 'net/1', 'né']) {
      assert.match(
        refused(['-network', bad]),
        /^invalid network \(-network \/ EC_REGISTRATOR_NETWORK\): must be a Docker network name or ID/,
      );
    }
    assert.match(refused([], { EC_REGISTRATOR_NETWORK: 'a,b' }), /invalid network/);
    assert.equal(
      refused(['-name-from', 'swarm']),
      'invalid nameFrom (-name-from / EC_REGISTRATOR_NAME_FROM): must be one of the possible values: ["image","compose"]: value was "swarm"',
    );
    assert.match(refused(['-name-from']), /option -name-from needs a value/);
  });

  it('the real CLI exits 2 with one line', () => {
    const r = spawnSync(process.execPath, [CLI, '-network', 'a b'], { encoding: 'utf8', env: { ...process.env, ...ENV } });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^registrator: invalid network/);
  });
});
