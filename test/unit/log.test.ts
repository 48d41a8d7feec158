import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import winston from 'winston';
import { createLogger } from '../../src/log';

function capture(format: 'json' | 'pretty') {
  const logger = createLogger({ level: 'debug', format });
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  logger.clear();
  logger.add(new winston.transports.Stream({ stream }));
  return { logger, lines };
}

describe('logging', () => {
  it('writes one JSON object per line with the component of a child logger', () => {
    const { logger, lines } = capture('json');
    logger.child({ component: 'writer.mirror' }).info('container mirrored', { id: 'abc' });
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]);
    assert.equal(line.component, 'writer.mirror');
    assert.equal(line.message, 'container mirrored');
    assert.equal(line.id, 'abc');
    assert.equal(line.level, 'info');
  });

  it('never writes secrets, at any level and nesting, in either format', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { logger, lines } = capture(format);
      logger.debug('config', {
        etcd: { user: 'u', password: 's3cret-pw' },
        token: 's3cret-token',
        CONSUL_HTTP_TOKEN: 's3cret-env',
        privateKey: 's3cret-key',
      });
      logger.error('failed', { options: [{ auth: { password: 's3cret-deep' } }] });
      const text = lines.join('\n');
      assert.doesNotMatch(text, /s3cret/, text);
      assert.match(text, /\[redacted\]/);
      assert.match(text, /"user":"u"/);
    }
  });

  it('masks credentials inside text: URI passwords and tokens, secret query parameters, PEM keys, error messages', () => {
    const { logger, lines } = capture('json');
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAs3cret\n-----END PRIVATE KEY-----';
    logger.info('starting', {
      registries: [
        'consul://admin:s3cret-a@127.0.0.1:8500',
        'etcd://s3cret-b@10.0.0.1:2379/services',
        'consulkv:///kv?token=s3cret-c&dc=one',
      ],
    });
    logger.warn(`bad file ${pem}`, {
      err: new Error('dial http://u:s3cret-d@host:2379 failed'),
      reason: 'address "u:s3cret-e@host:8500" is malformed',
    });
    const text = lines.join('\n');
    assert.doesNotMatch(text, /s3cret/, text);
    assert.deepEqual(JSON.parse(lines[0]).registries, [
      'consul://admin:[redacted]@127.0.0.1:8500',
      'etcd://[redacted]@10.0.0.1:2379/services',
      'consulkv:///kv?token=[redacted]&dc=one',
    ]);
    assert.equal(JSON.parse(lines[1]).message, 'bad file [redacted]');
    assert.equal(JSON.parse(lines[1]).err, 'dial http://u:[redacted]@host:2379 failed');
    assert.equal(JSON.parse(lines[1]).reason, 'address "u:[redacted]@host:8500" is malformed');
  });

  it('leaves text without credentials as it is', () => {
    const { logger, lines } = capture('json');
    const values = ['http://127.0.0.1:2379', 'hamesh:///services', 'user@example.com', 'a=b', '/registry/labels/x=y/1'];
    logger.info('plain', { values });
    assert.deepEqual(JSON.parse(lines[0]).values, values);
  });

  it('renders errors as their message on the same line', () => {
    const { logger, lines } = capture('json');
    const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    logger.warn('write failed', { err });
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).err, 'connect ECONNREFUSED (ECONNREFUSED)');
  });
});
