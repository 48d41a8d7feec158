import assert from 'node:assert/strict';
import { KNOWN_SCHEMES, loadBackendFactories } from '../../src/registrator/schemes';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config-error';
import { Config, loadConfig } from '../../src/config/load';
import { CLI } from '../support/daemon';
import { makeTestPki } from '../support/pki';

const pick = (c: Config) => ({ httpPort: c.httpPort, httpAddress: c.httpAddress });

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const result = loadConfig(argv, env);
  assert.equal(result.kind, 'run');
  return (result as { config: Config }).config;
}

const dir = mkdtempSync(join(tmpdir(), 'sr-config-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('configuration: accepted input', () => {
  it('has the documented defaults', () => {
    const c = run([], { DOCKER_HOST: 'unix:///var/run/docker.sock' });
    assert.equal(c.mirror, true);
    assert.equal(c.host, hostname());
    assert.deepEqual(c.etcd.hosts, ['http://localhost:2379']);
    assert.equal(c.etcd.dir, 'registry');
    assert.deepEqual(c.docker, { kind: 'socket', socketPath: '/var/run/docker.sock' });
    assert.equal(c.resync, 0);
    assert.equal(c.deregister, 'always');
    assert.equal(c.retryInterval, 2000);
    assert.equal(c.retryAttempts, -1);
    assert.equal(c.podmanHealthPoll, 2000);
    assert.equal(c.httpPort, 0, 'no HTTP listener unless asked for');
    assert.equal(c.httpAddress, '127.0.0.1');
    assert.deepEqual(c.log, { level: 'info', format: 'json' });
  });

  it('takes the HTTP listener port and address from flags, env vars and the config file', () => {
    assert.deepEqual(pick(run(['-http-port', '9333', '--http-address=::1'])), { httpPort: 9333, httpAddress: '::1' });
    assert.deepEqual(pick(run([], { EC_REGISTRATOR_HTTP_PORT: '65535', EC_REGISTRATOR_HTTP_ADDRESS: '0.0.0.0' })), {
      httpPort: 65535,
      httpAddress: '0.0.0.0',
    });
    assert.deepEqual(pick(run(['--httpPort', '0'], { EC_REGISTRATOR_HTTP_PORT: '9' })), { httpPort: 0, httpAddress: '127.0.0.1' });
    const cfg = file('http.json', JSON.stringify({ httpPort: 9100, httpAddress: '10.1.2.3' }));
    assert.deepEqual(pick(run(['--config', cfg])), { httpPort: 9100, httpAddress: '10.1.2.3' });
  });

  it('takes -podman-health-poll (ms, 0: no poll) from flags, env vars and the config file', () => {
    assert.equal(run(['-podman-health-poll', '500']).podmanHealthPoll, 500);
    assert.equal(run(['--podman-health-poll=0']).podmanHealthPoll, 0);
    assert.equal(run(['--podmanHealthPoll', '250'], { EC_REGISTRATOR_PODMAN_HEALTH_POLL: '9' }).podmanHealthPoll, 250);
    assert.equal(run([], { EC_REGISTRATOR_PODMAN_HEALTH_POLL: '750' }).podmanHealthPoll, 750);
    assert.equal(run([], { EC_REGISTRATOR_PODMAN_HEALTH_POLL: '0' }).podmanHealthPoll, 0);
    assert.equal(run(['--config', file('poll.json', JSON.stringify({ podmanHealthPoll: 100 }))]).podmanHealthPoll, 100);
    assert.equal(run(['-podman-health-poll', '2147483647']).podmanHealthPoll, 2 ** 31 - 1, 'the longest timer Node.js can set');
  });

  it('takes gliderlabs single-dash flags before and after the arguments, and --long forms', () => {
    const c = run([
      '-internal',
      '-ttl',
      '30',
      '--ttl-refresh=10',
      '-resync',
      '5',
      '-ip',
      '10.0.0.9',
      '-deregister',
      'on-success',
      '-cleanup',
      '-explicit',
      '-tags',
      'a,b',
      '-useIpFromLabel',
      'ip.label',
      '-retry-attempts',
      '-1',
      '--retry-interval',
      '500',
      '--no-mirror',
      '-host',
      'node7',
    ]);
    assert.equal(c.internal, true);
    assert.equal(c.ttl, 30);
    assert.equal(c.ttlRefresh, 10);
    assert.equal(c.resync, 5);
    assert.equal(c.ip, '10.0.0.9');
    assert.equal(c.deregister, 'on-success');
    assert.equal(c.cleanup, true);
    assert.equal(c.explicit, true);
    assert.equal(c.tags, 'a,b');
    assert.equal(c.useIpFromLabel, 'ip.label');
    assert.equal(c.retryAttempts, -1);
    assert.equal(c.retryInterval, 500);
    assert.equal(c.mirror, false);
    assert.equal(c.host, 'node7');
  });

  it('reads every option from EC_REGISTRATOR_* env vars, with EC_ETCD_HOSTS / EC_HOST aliases', () => {
    const c = run([], {
      EC_ETCD_HOSTS: 'etcd1:2379,http://etcd2:2379',
      EC_HOST: 'aliased',
      EC_REGISTRATOR_RESYNC: '7',
      EC_REGISTRATOR_MIRROR: 'false',
      EC_REGISTRATOR_ETCD_DIR: '/mirror/',
      EC_REGISTRATOR_LOG_LEVEL: 'debug',
      EC_REGISTRATOR_LOG_FORMAT: 'pretty',
      EC_REGISTRATOR_DOCKER_SOCKET: 'tcp://127.0.0.1:2375',
    });
    assert.deepEqual(c.etcd.hosts, ['http://etcd1:2379', 'http://etcd2:2379']);
    assert.equal(c.host, 'aliased');
    assert.equal(c.resync, 7);
    assert.equal(c.mirror, false);
    assert.equal(c.etcd.dir, 'mirror');
    assert.deepEqual(c.log, { level: 'debug', format: 'pretty' });
    assert.deepEqual(c.docker, { kind: 'tcp', host: '127.0.0.1', port: 2375, tls: false, certPath: undefined });
  });

  it('reads -flag=value booleans with the same words as env vars', () => {
    assert.equal(run(['-internal=on']).internal, true);
    assert.equal(run(['-internal=OFF']).internal, false);
    assert.equal(run(['--no-mirror=no']).mirror, true);
  });

  it('reads boolean env vars as true/false, 1/0, yes/no, on/off', () => {
    for (const [value, expected] of [
      ['0', false],
      ['no', false],
      ['OFF', false],
      ['false', false],
      ['1', true],
      ['yes', true],
      ['true', true],
    ] as const) {
      assert.equal(run([], { EC_REGISTRATOR_MIRROR: value }).mirror, expected, value);
    }
  });

  it('prefers the canonical env var over its alias', () => {
    assert.equal(run([], { EC_HOST: 'alias', EC_REGISTRATOR_HOST: 'canonical' }).host, 'canonical');
  });

  it('applies defaults < config file < env < argv', () => {
    const cfg = file('layers.json', JSON.stringify({ resync: 1, ttl: 40, ttlRefresh: 4, host: 'from-file', etcd: { dir: 'filedir' } }));
    const c = run(['--config', cfg, '-resync', '3'], { EC_REGISTRATOR_RESYNC: '2', EC_REGISTRATOR_TTL: '50' });
    assert.equal(c.resync, 3);
    assert.equal(c.ttl, 50);
    assert.equal(c.ttlRefresh, 4);
    assert.equal(c.host, 'from-file');
    assert.equal(c.etcd.dir, 'filedir');
    assert.equal(run([], { EC_REGISTRATOR_CONFIG: cfg }).host, 'from-file');
  });

  it('selects https for etcd when TLS files are given, and keeps credentials', async () => {
    const pem = (await makeTestPki('config')).ca;
    const c = run([], {
      EC_REGISTRATOR_ETCD_HOSTS: 'e1:2379',
      EC_REGISTRATOR_ETCD_CA: pem,
      EC_REGISTRATOR_ETCD_USER: 'u',
      EC_REGISTRATOR_ETCD_PASSWORD: 'p',
    });
    assert.deepEqual(c.etcd.hosts, ['https://e1:2379']);
    assert.equal(c.etcd.ca, pem);
    assert.equal(c.etcd.password, 'p');
  });

  it('prints help and version without starting', () => {
    assert.equal(loadConfig(['--help'], {}).kind, 'help');
    assert.equal(loadConfig(['-version'], {}).kind, 'version');
  });
});

describe('configuration: rejected input names the offending value', () => {
  const unreadable = join(dir, 'missing.pem');
  const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    ['unknown option', ['-bogus'], {}, /unknown option -bogus/],
    ['flag without value', ['-resync'], {}, /option -resync needs a value/],
    [
      'non-numeric flag',
      ['-resync', 'abc'],
      {},
      /resync \(-resync \/ EC_REGISTRATOR_RESYNC\): must be a whole number >= 0: value was "abc"/,
    ],
    ['half-numeric flag', ['-ttl', '10abc', '-ttl-refresh', '1'], {}, /ttl .*value was "10abc"/],
    ['non-numeric env', [], { EC_REGISTRATOR_RETRY_INTERVAL: 'soon' }, /retryInterval .*EC_REGISTRATOR_RETRY_INTERVAL.*"soon"/],
    ['bad boolean', ['-internal=maybe'], {}, /-internal=maybe: "maybe" is not true or false \(also 1\/0, yes\/no, on\/off\)/],
    ['ttl not above ttl-refresh', ['-ttl', '10', '-ttl-refresh', '10'], {}, /-ttl 10 must be greater than -ttl-refresh 10/],
    ['ttl-refresh without ttl', ['-ttl-refresh', '5'], {}, /-ttl-refresh 5 needs -ttl/],
    ['bad deregister mode', ['-deregister', 'never'], {}, /deregister .*"never"/],
    ['bad ip', ['-ip', '1.2.3'], {}, /ip .*must be an IPv4 or IPv6 address/],
    [
      'unreadable TLS file',
      [],
      { EC_REGISTRATOR_ETCD_CA: unreadable },
      new RegExp(`etcd.ca .*missing or unreadable: value was "${unreadable}"`),
    ],
    [
      'cert without key',
      [],
      { EC_REGISTRATOR_ETCD_CERT: '/etc/hostname' },
      /needs both EC_REGISTRATOR_ETCD_CERT and EC_REGISTRATOR_ETCD_KEY/,
    ],
    ['malformed URI', ['not-a-uri'], {}, /malformed registry URI "not-a-uri"/],
    ['unknown scheme', ['redis://localhost/x'], {}, /unknown registry scheme "redis"/],
    ['URI without its prefix', ['hamesh://'], {}, /"hamesh:\/\/" needs a key prefix/],
    [
      'etcd prefix inside a skydns2 domain tree',
      ['etcd:///skydns/local/skydns/x', 'skydns2:///skydns.local'],
      {},
      /^registry URI "etcd:\/\/\/skydns\/local\/skydns\/x" writes inside the tree of "skydns2:\/\/\/skydns\.local" \(\/skydns\/local\/skydns\/\), where CoreDNS reads every value as JSON/,
    ],
    ['bad etcd endpoint', [], { EC_REGISTRATOR_ETCD_HOSTS: 'ftp://x:1' }, /etcd.hosts .*must use http/],
    [
      'mixed etcd schemes',
      [],
      { EC_REGISTRATOR_ETCD_HOSTS: 'http://a:2379,https://b:2379' },
      /etcd endpoints mix http:\/\/ and https:\/\//,
    ],
    [
      'missing Docker TLS files',
      [],
      { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_CERT_PATH: dir },
      /Docker TLS file ".*\/(ca|cert|key)\.pem" \(DOCKER_CERT_PATH\) is missing or unreadable/,
    ],
    ['bad boolean env', [], { EC_REGISTRATOR_MIRROR: 'maybe' }, /mirror \(-mirror \/ EC_REGISTRATOR_MIRROR\): must be true or false/],
    [
      'HTTP port too large',
      ['-http-port', '65536'],
      {},
      /^invalid httpPort \(-http-port \/ EC_REGISTRATOR_HTTP_PORT\): must be a TCP port 0\.\.65535 \(0: off\): value was 65536$/,
    ],
    ['negative HTTP port', ['-http-port=-1'], {}, /^invalid httpPort \(-http-port .*value was -1$/],
    [
      'non-numeric HTTP port env',
      [],
      { EC_REGISTRATOR_HTTP_PORT: '80abc' },
      /^invalid httpPort \(-http-port \/ EC_REGISTRATOR_HTTP_PORT\): must be a TCP port .*value was "80abc"$/,
    ],
    [
      'HTTP address not an IP',
      ['-http-address', 'localhost'],
      {},
      /^invalid httpAddress \(-http-address \/ EC_REGISTRATOR_HTTP_ADDRESS\): must be an IPv4 or IPv6 address: value was "localhost"$/,
    ],
    ['empty HTTP address', [], { EC_REGISTRATOR_HTTP_ADDRESS: '' }, /^invalid httpAddress .*must be an IPv4 or IPv6 address/],
    [
      'podman health poll with a unit',
      ['-podman-health-poll', '2s'],
      {},
      /^invalid podmanHealthPoll \(-podman-health-poll \/ EC_REGISTRATOR_PODMAN_HEALTH_POLL\): must be a whole number >= 0: value was "2s"$/,
    ],
    [
      'negative podman health poll env',
      [],
      { EC_REGISTRATOR_PODMAN_HEALTH_POLL: '-1' },
      /^invalid podmanHealthPoll \(-podman-health-poll \/ EC_REGISTRATOR_PODMAN_HEALTH_POLL\): must be a whole number >= 0: value was -1$/,
    ],
    [
      'empty podman health poll env',
      [],
      { EC_REGISTRATOR_PODMAN_HEALTH_POLL: '' },
      /^invalid podmanHealthPoll .*must be a whole number >= 0/,
    ],
    [
      'podman health poll past the longest timer',
      ['-podman-health-poll', '2147483648'],
      {},
      /^-podman-health-poll 2147483648 is longer than 2147483647 ms \(24\.8 days\), the longest timer Node\.js can set$/,
    ],
    ['bad log level', ['--log-level', 'loud'], {}, /log.level .*"loud"/],
    [
      'host name with "/"',
      ['-host', 'a/b'],
      {},
      /^invalid host \(-host \/ EC_REGISTRATOR_HOST\): must be one key segment: not "\." or "\.\.", no "\/", whitespace or control character: value was "a\/b"$/,
    ],
    [
      'host name ".."',
      [],
      { EC_REGISTRATOR_HOST: '..' },
      /^invalid host \(-host \/ EC_REGISTRATOR_HOST\): must be one key segment.*: value was "\.\."$/,
    ],
    ['host name "."', ['-host', '.'], {}, /^invalid host \(-host \/ EC_REGISTRATOR_HOST\): must be one key segment.*: value was "\."$/],
    ['host name with whitespace', [], { EC_HOST: 'my host' }, /^invalid host \(-host \/ EC_REGISTRATOR_HOST\): .*value was "my host"$/],
    [
      'host name with a control character, escaped',
      [],
      { EC_REGISTRATOR_HOST: 'node\u00017' },
      /^invalid host \(-host \/ EC_REGISTRATOR_HOST\): must be one key segment.*: value was "node\\u00017"$/,
    ],
    [
      'unknown config-file key',
      ['--config', file('unknown.json', '{"resync": 1, "colour": "blue"}')],
      {},
      /unknown configuration key "colour"/,
    ],
    ['config file not JSON', ['--config', file('broken.json', '{resync:')], {}, /is not valid JSON/],
    ['missing config file', ['--config', join(dir, 'nope.json')], {}, /config file ".*nope.json" is missing or unreadable/],
  ];
  for (const [name, argv, env, pattern] of cases) {
    it(name, () => {
      assert.throws(
        () => loadConfig(argv, env),
        (err: Error) => {
          assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
          assert.match(err.message, pattern);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
    });
  }
});

describe('registrator CLI exit status', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, EC_REGISTRATOR_ETCD_HOSTS: '127.0.0.1:1', ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });

  it('exits 2 with one stderr line naming a bad flag, writing nothing to stdout', () => {
    const r = cli(['-ttl', 'x']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^registrator: invalid ttl \(-ttl \/ EC_REGISTRATOR_TTL\): must be a whole number >= 0: value was "x"\n$/);
  });

  it('has a backend for every scheme the URI parser knows', async () => {
    const factories = await loadBackendFactories(KNOWN_SCHEMES);
    for (const scheme of KNOWN_SCHEMES) assert.ok(factories.get(scheme), scheme);
  });

  it('exits 2 with one stderr line naming a bad -http-port or -http-address', () => {
    for (const [args, pattern] of [
      [
        ['-http-port', '99999'],
        /^registrator: invalid httpPort \(-http-port \/ EC_REGISTRATOR_HTTP_PORT\): must be a TCP port 0\.\.65535 \(0: off\): value was 99999\n$/,
      ],
      [
        ['-http-address', '1.2.3.4.5'],
        /^registrator: invalid httpAddress \(-http-address \/ EC_REGISTRATOR_HTTP_ADDRESS\): must be an IPv4 or IPv6 address: value was "1\.2\.3\.4\.5"\n$/,
      ],
    ] as const) {
      const r = cli([...args]);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
    }
  });

  it('exits 2 with one stderr line naming a bad -podman-health-poll, from the flag or the env var', () => {
    for (const [args, env, pattern] of [
      [
        ['-podman-health-poll', 'soon'],
        {},
        /^registrator: invalid podmanHealthPoll \(-podman-health-poll \/ EC_REGISTRATOR_PODMAN_HEALTH_POLL\): must be a whole number >= 0: value was "soon"\n$/,
      ],
      [
        [],
        { EC_REGISTRATOR_PODMAN_HEALTH_POLL: '1.5' },
        /^registrator: invalid podmanHealthPoll \(-podman-health-poll \/ EC_REGISTRATOR_PODMAN_HEALTH_POLL\): must be a whole number >= 0: value was "1\.5"\n$/,
      ],
    ] as const) {
      const r = cli([...args], env);
      assert.equal(r.status, 2, JSON.stringify([args, env]));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
    }
  });

  it('exits 2 with one stderr line naming a host name that is not one key segment, from the flag or the env var', () => {
    for (const [args, env, value] of [
      [['-host', '..'], {}, '".."'],
      [[], { EC_REGISTRATOR_HOST: 'team/web' }, '"team/web"'],
      [[], { EC_HOST: 'node\n7' }, '"node\\n7"'],
    ] as const) {
      const r = cli([...args], env);
      assert.equal(r.status, 2, JSON.stringify([args, env]));
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        'registrator: invalid host (-host / EC_REGISTRATOR_HOST): must be one key segment: not "." or "..", ' +
          `no "/", whitespace or control character: value was ${value}\n`,
      );
    }
  });

  it('exits 2 when there is nothing to do', () => {
    const r = cli(['--no-mirror']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nothing to do/);
  });

  it('prints usage and version, exit 0', () => {
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: registrator \[options\] \[registry-uri \.\.\.\]/);
    assert.match(help.stdout, /--ttl-refresh VALUE/);
    const version = cli(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
