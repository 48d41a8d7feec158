import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config-error';
import { consulConnection } from '../../src/registrator/consul/connection';
import { parseRegistryUri } from '../../src/registrator/schemes';

const connect = (uri: string, env: NodeJS.ProcessEnv = {}) => consulConnection(parseRegistryUri(uri), env);

describe('consul connection: URI and CONSUL_* environment', () => {
  const table: Array<[string, NodeJS.ProcessEnv, unknown, string | undefined]> = [
    ['consul://', {}, { kind: 'tcp', host: '127.0.0.1', port: 8500 }, undefined],
    ['consul://10.0.0.1', {}, { kind: 'tcp', host: '10.0.0.1', port: 8500 }, undefined],
    ['consul://consul.local:18500', { CONSUL_HTTP_ADDR: 'other:1' }, { kind: 'tcp', host: 'consul.local', port: 18500 }, undefined],
    ['consul://[::1]:8500', {}, { kind: 'tcp', host: '::1', port: 8500 }, undefined],
    ['consul://', { CONSUL_HTTP_ADDR: '10.1.1.1:9500' }, { kind: 'tcp', host: '10.1.1.1', port: 9500 }, undefined],
    ['consul://', { CONSUL_HTTP_ADDR: 'http://10.1.1.1' }, { kind: 'tcp', host: '10.1.1.1', port: 8500 }, undefined],
    ['consul://', { CONSUL_HTTP_ADDR: 'https://10.1.1.1' }, { kind: 'tcp', host: '10.1.1.1', port: 8501, tls: {} }, undefined],
    ['consul://', { CONSUL_HTTP_ADDR: 'unix:///run/consul.sock' }, { kind: 'unix', socketPath: '/run/consul.sock' }, undefined],
    ['consul-tls://', {}, { kind: 'tcp', host: '127.0.0.1', port: 8501, tls: {} }, undefined],
    [
      'consul-tls://c:443',
      { CONSUL_TLS_SERVER_NAME: 'consul.example' },
      { kind: 'tcp', host: 'c', port: 443, tls: { servername: 'consul.example' } },
      undefined,
    ],
    ['consul-tls://', { CONSUL_HTTP_ADDR: 'c2:8443' }, { kind: 'tcp', host: 'c2', port: 8443, tls: {} }, undefined],
    ['consul-unix:///var/run/consul.sock', {}, { kind: 'unix', socketPath: '/var/run/consul.sock' }, undefined],
    ['consulkv:///services', {}, { kind: 'tcp', host: '127.0.0.1', port: 8500 }, 'services'],
    ['consulkv://c:8500/a/b/', {}, { kind: 'tcp', host: 'c', port: 8500 }, 'a/b'],
    ['consul://c:8500/services', {}, { kind: 'tcp', host: 'c', port: 8500 }, 'services'],
    ['consul-tls://c:8501/services', {}, { kind: 'tcp', host: 'c', port: 8501, tls: {} }, 'services'],
  ];
  for (const [uri, env, endpoint, kvPrefix] of table) {
    it(`${uri} ${JSON.stringify(env)}`, () => {
      const c = connect(uri, env);
      assert.deepStrictEqual(c.client.endpoint, endpoint);
      assert.equal(c.kvPrefix, kvPrefix);
    });
  }

  it('CONSUL_HTTP_TOKEN is the token; else CONSUL_HTTP_TOKEN_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-consul-'));
    writeFileSync(join(dir, 'token'), 'from-file\n');
    assert.equal(connect('consul://', { CONSUL_HTTP_TOKEN: 'abc' }).client.token, 'abc');
    assert.equal(connect('consul://', { CONSUL_HTTP_TOKEN_FILE: join(dir, 'token') }).client.token, 'from-file');
    assert.equal(connect('consul://', { CONSUL_HTTP_TOKEN: 'abc', CONSUL_HTTP_TOKEN_FILE: join(dir, 'token') }).client.token, 'abc');
    assert.equal(connect('consul://').client.token, undefined);
  });

  const errors: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['consul-tls://', { CONSUL_CACERT: '/nonexistent/ca.pem' }, /CONSUL_CACERT file "\/nonexistent\/ca.pem" cannot be read: ENOENT/],
    ['consul-tls://', { CONSUL_CLIENT_CERT: '/x.pem' }, /CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY/],
    ['consul-tls://', { CONSUL_CLIENT_KEY: '/x.pem' }, /CONSUL_CLIENT_KEY is set without CONSUL_CLIENT_CERT/],
    ['consul://', { CONSUL_HTTP_ADDR: 'https://c', CONSUL_CACERT: '/nonexistent' }, /CONSUL_CACERT file/],
    ['consul://', { CONSUL_HTTP_ADDR: 'ftp://c/x' }, /CONSUL_HTTP_ADDR "ftp:\/\/c\/x" is not host:port/],
    ['consul://', { CONSUL_HTTP_ADDR: 'unix://relative.sock' }, /unix:\/\/\/<absolute socket path>/],
    ['consul://', { CONSUL_HTTP_ADDR: 'c:99999' }, /malformed Consul address "c:99999"/],
    ['consul-tls://', { CONSUL_HTTP_ADDR: 'unix:///x.sock' }, /consul-tls:\/\/ needs a host and port/],
    ['consul-tls://', { CONSUL_HTTP_ADDR: 'http://c:8500' }, /says http:\/\/, but the registry URI is consul-tls:\/\//],
    ['consul-unix://var/run/consul.sock', {}, /consul-unix takes a socket path/],
    ['consul://', { CONSUL_HTTP_TOKEN_FILE: '/nonexistent/token' }, /CONSUL_HTTP_TOKEN_FILE file "\/nonexistent\/token" cannot be read/],
  ];
  for (const [uri, env, message] of errors) {
    it(`refuses ${uri} ${JSON.stringify(env)} with a ConfigError`, () => {
      assert.throws(
        () => connect(uri, env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it('refuses a CA file that is not PEM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-consul-'));
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    assert.throws(
      () => connect('consul-tls://', { CONSUL_CACERT: join(dir, 'ca.pem') }),
      (err: unknown) => err instanceof ConfigError && /holds no PEM certificate/.test(err.message),
    );
  });
});
