import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckReport } from '../../src/ops/check';
import { PROGRESS_INTERVAL_MS } from '../../src/ops/check-progress';
import { runCli } from '../support/cli';
import { CLI } from '../support/daemon';
import { EtcdServer } from '../support/etcd';
import { fillFleet } from '../support/fleet-fill';
import { TcpProxy } from '../support/tcp-proxy';

const URIS = ['hamesh:///mesh', 'etcd:///services', 'skydns2:///skydns.local'];
/** Latency the proxy adds to every answer of etcd: the check of a few thousand keys then takes seconds, not a blink. */
const DELAY_MS = 100;
const PROGRESS = /^registrator check: (\d[\d,]*) pages read, (\d[\d,]*) keys judged \((\S+) in etcd (\S+)\)$/;

/** A shell word for `sh -c`. */
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the built CLI with its stderr on a pseudo-terminal (util-linux `script`) and its stdout in a
 * file, as `registrator check ... > report` typed at a terminal. Resolves with what the terminal got
 * (stderr), byte for byte, and the file (stdout).
 */
function runOnTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; terminal: string; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'check-progress-'));
  const out = join(dir, 'stdout');
  const command = `${[process.execPath, CLI, ...args].map(quote).join(' ')} > ${quote(out)}`;
  return new Promise((resolve, reject) => {
    // -q: no banner; -e: script exits with the command's status; /dev/null: no typescript file.
    const proc = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, SHELL: '/bin/sh', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let terminal = '';
    proc.stdout.on('data', (c: Buffer) => (terminal += c.toString('latin1')));
    proc.stderr.on('data', (c: Buffer) => (terminal += c.toString('latin1')));
    proc.once('error', reject);
    proc.once('close', (code) => {
      try {
        resolve({ code, terminal, stdout: readFileSync(out, 'utf8') });
      } catch (err) {
        reject(err as Error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

const number = (text: string) => Number(text.replace(/,/g, ''));

describe('registrator check: progress on a terminal', () => {
  let etcd: EtcdServer;
  let proxy: TcpProxy;
  let written = 0;
  const env = (): NodeJS.ProcessEnv => ({
    EC_REGISTRATOR_ETCD_HOSTS: proxy.endpoint,
    EC_REGISTRATOR_HOST: `progress-${process.pid}`,
    EC_REGISTRATOR_DOCKER_SOCKET: '/nonexistent/docker.sock',
    EC_REGISTRATOR_LOG_LEVEL: 'error',
  });

  before(async () => {
    etcd = await EtcdServer.start();
    written = await fillFleet(etcd.client, { hosts: 40, containers: 5, uris: URIS });
    proxy = await TcpProxy.start(etcd.port, { delayMs: DELAY_MS });
  });
  after(async () => {
    await proxy?.close();
    await etcd?.stop();
  });

  it('stderr on a terminal shows pages read and keys judged on one line rewritten in place, then cleared; stdout is as without a terminal', async () => {
    assert.ok(written > 4000, `${written} keys`);
    for (const args of [
      ['check', '--json', ...URIS],
      ['check', ...URIS],
    ]) {
      const plain = await runCli(args, env());
      assert.equal(plain.code, 0, plain.stderr);
      // Not a terminal (a pipe, as in scripts and CI): nothing on stderr at all.
      assert.equal(plain.stderr, '');

      const started = Date.now();
      const tty = await runOnTerminal(args, env());
      const took = Date.now() - started;
      assert.equal(tty.code, 0, tty.terminal);
      assert.equal(tty.stdout, plain.stdout, 'stdout differs with stderr on a terminal');

      // Every draw is `\r<line>ESC[K`; the last write clears the line; nothing else reaches the terminal.
      assert.ok(tty.terminal.endsWith('\r\x1b[K'), JSON.stringify(tty.terminal.slice(-200)));
      const draws = tty.terminal.slice(0, -'\r\x1b[K'.length).split('\x1b[K');
      assert.equal(draws.pop(), '', JSON.stringify(tty.terminal.slice(-200)));
      assert.ok(draws.length >= 2, `${draws.length} draws: ${JSON.stringify(tty.terminal)}`);
      let [lastPages, lastKeys] = [0, 0];
      const prefixes = new Set<string>();
      for (const draw of draws) {
        assert.ok(draw.startsWith('\r') && !draw.includes('\n'), JSON.stringify(draw));
        const match = PROGRESS.exec(draw.slice(1));
        assert.ok(match, JSON.stringify(draw));
        const [pages, keys] = [number(match[1]), number(match[2])];
        assert.ok(pages >= lastPages && keys >= lastKeys, draw);
        assert.equal(match[4], `http://${proxy.endpoint}`);
        prefixes.add(match[3]);
        [lastPages, lastKeys] = [pages, keys];
      }
      assert.ok(lastKeys <= written, `${lastKeys} keys judged of ${written}`);
      // At most a few draws a second (one per PROGRESS_INTERVAL_MS), over a check that took seconds.
      assert.ok(draws.length <= took / PROGRESS_INTERVAL_MS + 1, `${draws.length} draws in ${took} ms`);
      const report = JSON.parse((await runCli(['check', '--json', ...URIS], env())).stdout) as CheckReport;
      assert.ok(lastPages <= report.stores[0].pages + 1, `${lastPages} pages drawn, ${report.stores[0].pages} read`);
      assert.ok(
        [...prefixes].every((p) => ['/registry/', '/_registrator/owners/', '/_registrator/hosts/'].includes(p)),
        [...prefixes].join(),
      );
    }
  });
});
