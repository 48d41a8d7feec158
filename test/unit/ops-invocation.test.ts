import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config-error';
import { OpsInvocation, opsUsage, parseOpsCommand } from '../../src/ops/invocation';

const ENV = { DOCKER_HOST: 'unix:///var/run/docker.sock', EC_REGISTRATOR_HOST: 'h1' };

function invocation(command: 'ls' | 'diff' | 'check', argv: string[], env: NodeJS.ProcessEnv = ENV): OpsInvocation {
  const parsed = parseOpsCommand(command, argv, env, false);
  assert.equal(parsed.kind, 'run');
  return (parsed as { invocation: OpsInvocation }).invocation;
}

describe('operator commands: command line', () => {
  it('reads the configuration as the daemon does: --host over EC_REGISTRATOR_HOST, URIs, etcd settings', () => {
    const { config, json } = invocation('ls', ['--host', 'other', '--json', 'hamesh:///mesh', '-etcd-dir', 'fleet'], {
      ...ENV,
      EC_REGISTRATOR_ETCD_HOSTS: '10.0.0.1:2379',
    });
    assert.equal(json, true);
    assert.equal(config.host, 'other');
    assert.equal(config.etcd.dir, 'fleet');
    assert.deepEqual(config.etcd.hosts, ['http://10.0.0.1:2379']);
    assert.deepEqual(
      config.uris.map((u) => u.raw),
      ['hamesh:///mesh'],
    );
  });

  it('takes the configured host and URIs from the environment; -json is --json; text by default', () => {
    const a = invocation('diff', [], { ...ENV, EC_REGISTRATOR_URIS: 'etcd:///services' });
    assert.equal(a.config.host, 'h1');
    assert.equal(a.json, false);
    assert.deepEqual(
      a.config.uris.map((u) => u.raw),
      ['etcd:///services'],
    );
    assert.equal(invocation('diff', ['-json']).json, true);
  });

  it('check takes --fix (and -fix); ls and diff do not', () => {
    assert.deepEqual(
      [invocation('check', ['--fix', '--json']), invocation('check', ['-fix']), invocation('check', [])].map((i) => [i.fix, i.json]),
      [
        [true, true],
        [true, false],
        [false, false],
      ],
    );
    assert.equal(invocation('ls', []).fix, false);
    for (const command of ['ls', 'diff'] as const) {
      assert.throws(
        () => parseOpsCommand(command, ['--fix'], ENV, false),
        (err: unknown) => err instanceof ConfigError && err.message === 'unknown option --fix (see --help)',
      );
    }
  });

  it("--help gives the command's own usage", () => {
    for (const command of ['ls', 'diff', 'check'] as const) {
      const parsed = parseOpsCommand(command, ['--help'], ENV, false);
      assert.deepEqual(parsed, { kind: 'help', text: opsUsage(command) });
      assert.match(opsUsage(command), new RegExp(`^usage: registrator ${command} `));
    }
  });

  for (const [argv, message] of [
    [['--bogus'], /^unknown option --bogus \(see --help\)$/],
    [['--json=yes'], /^unknown option --json=yes/],
    [['bogus://x'], /unknown registry scheme "bogus"/],
    [['--no-mirror'], /^nothing to do/],
  ] as const) {
    it(`refuses ${argv.join(' ')} with one line`, () => {
      assert.throws(
        () => parseOpsCommand('ls', argv, ENV, false),
        (err: unknown) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'),
      );
    });
  }
});
