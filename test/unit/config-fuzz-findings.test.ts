import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config-error';
import { Config, loadConfig } from '../../src/config/load';
import { makeTestPki, TestPki } from '../support/pki';

/** What the configuration fuzz found, each pinned as a case of its own. */

const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const notPem = join(mkdtempSync(join(tmpdir(), 'sr-notpem-')), 'not.pem');
writeFileSync(notPem, 'hello\n');

function refused(argv: string[], env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(
    () => loadConfig(argv, env),
    (err: Error) => {
      assert.ok(err instanceof ConfigError, `not a ConfigError: ${err.name}: ${err.message}`);
      assert.match(err.message, pattern);
      assert.doesNotMatch(err.message, /[\r\n]/);
      return true;
    },
  );
}

function accepted(argv: string[], env: NodeJS.ProcessEnv = NO_DOCKER): Config {
  const result = loadConfig(argv, env);
  assert.equal(result.kind, 'run');
  return (result as { config: Config }).config;
}

describe('configuration fuzz findings: refused with one line, never another error', () => {
  const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    [
      'DOCKER_HOST that is not a URL (was a TypeError)',
      [],
      { DOCKER_HOST: 'garbage' },
      /^Docker endpoint "garbage" \(DOCKER_HOST\) must be a socket path, unix:\/\/\/path or tcp:\/\/host:port$/,
    ],
    [
      'DOCKER_HOST with a port past 65535 (was a TypeError)',
      [],
      { DOCKER_HOST: 'tcp://h:99999' },
      /^Docker endpoint "tcp:\/\/h:99999" \(DOCKER_HOST\) must be/,
    ],
    [
      'DOCKER_HOST ssh:// (was taken as tcp to port 2375; a lone userinfo may be a token, so it is masked)',
      [],
      { DOCKER_HOST: 'ssh://user@h' },
      /^Docker endpoint "ssh:\/\/\[redacted\]@h" \(DOCKER_HOST\) must be/,
    ],
    [
      'unix:// without a path (was an empty socket path)',
      [],
      { DOCKER_HOST: 'unix://' },
      /^Docker endpoint "unix:\/\/" \(DOCKER_HOST\) needs an absolute socket path/,
    ],
    [
      'a Docker endpoint on port 0',
      ['-docker-socket', 'tcp://h:0'],
      {},
      /^Docker endpoint "tcp:\/\/h:0" \(EC_REGISTRATOR_DOCKER_SOCKET\) has port 0/,
    ],
    [
      'an etcd endpoint that is a path (was http:///registry/, host "registry")',
      ['-etcd-hosts', '/registry/'],
      NO_DOCKER,
      /etcd.hosts .*"\/registry\/" must be host:port or http\(s\):\/\/host:port, without a path/,
    ],
    [
      'a carriage return in an echoed value is escaped',
      ['-cleanup=a\rb'],
      NO_DOCKER,
      /^option -cleanup=a\\u000db: "a\\u000db" is not true or false/,
    ],
    [
      '-resync past the longest timer (a longer one fires every 1 ms)',
      ['-resync', '2147484'],
      NO_DOCKER,
      /^-resync 2147484 is longer than 2147483 seconds \(24\.8 days\), the longest timer Node\.js can set$/,
    ],
    [
      '-retry-interval past the longest timer',
      ['-retry-interval', '2147483648'],
      NO_DOCKER,
      /^-retry-interval 2147483648 is longer than 2147483647 ms/,
    ],
    [
      '-ttl-refresh past the longest timer',
      ['-ttl', '9999999', '-ttl-refresh', '2147484'],
      NO_DOCKER,
      /^-ttl-refresh 2147484 is longer than 2147483 seconds/,
    ],
    [
      'an etcd CA file that is not PEM (was accepted; every connection failed)',
      [],
      { ...NO_DOCKER, EC_REGISTRATOR_ETCD_CA: notPem },
      /^EC_REGISTRATOR_ETCD_CA \(-etcd-ca\) file ".*not\.pem" holds no PEM certificate$/,
    ],
    [
      'an etcd client certificate and key that are not PEM (was "start failed", exit 1)',
      [],
      { ...NO_DOCKER, EC_REGISTRATOR_ETCD_CERT: notPem, EC_REGISTRATOR_ETCD_KEY: notPem },
      /^etcd TLS files \(-etcd-ca, -etcd-cert, -etcd-key\) are not usable: /,
    ],
    [
      '-resync 1e3: not a whole number (yargs read it as 1000)',
      ['-resync', '1e3'],
      NO_DOCKER,
      /resync .*must be a whole number >= 0: value was "1e3"/,
    ],
  ];
  for (const [name, argv, env, pattern] of cases) it(name, () => refused(argv, env, pattern));
});

describe('configuration fuzz findings: values kept as given', () => {
  let pki: TestPki;
  before(async () => {
    pki = await makeTestPki('fuzz');
  });

  it('string options are not read as numbers or unquoted (convict\'s yargs turned 0x10 into "16")', () => {
    for (const value of ['0x10', '1e3', '-0', '"quoted"', "'single'", '007']) {
      const c = accepted([
        '-tags',
        value,
        '-host',
        `h${value.replace(/\W/g, '')}`,
        '-useIpFromLabel',
        value,
        '-etcd-user',
        value,
        '-etcd-password',
        value,
      ]);
      assert.deepEqual([c.tags, c.useIpFromLabel, c.etcd.user, c.etcd.password], [value, value, value, value]);
    }
    assert.equal(accepted(['-host', '0x10']).host, '0x10');
  });

  it('the last of a repeated option wins', () => {
    assert.equal(accepted(['-tags', 'a', '-tags', 'b']).tags, 'b');
  });

  it('real PEM files for etcd TLS are accepted; a key of another certificate is not', () => {
    const c = accepted([], {
      ...NO_DOCKER,
      EC_REGISTRATOR_ETCD_CA: pki.ca,
      EC_REGISTRATOR_ETCD_CERT: pki.clientCert,
      EC_REGISTRATOR_ETCD_KEY: pki.clientKey,
    });
    assert.deepEqual(c.etcd.hosts, ['https://localhost:2379']);
    refused(
      [],
      { ...NO_DOCKER, EC_REGISTRATOR_ETCD_CERT: pki.clientCert, EC_REGISTRATOR_ETCD_KEY: pki.serverKey },
      /^etcd TLS files .* are not usable: .*key values mismatch/,
    );
  });

  it('an etcd endpoint keeps no trailing slash', () => {
    assert.deepEqual(accepted(['-etcd-hosts', 'http://127.0.0.1:1/,127.0.0.1:2']).etcd.hosts, ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  });
});
