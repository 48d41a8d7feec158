import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { PrivateDockerd } from '../support/dockerd';
import { waitFor } from '../support/wait';

const exec = promisify(execFile);
const HOST = `nf-${process.pid}`;
const NS = `srnf${process.pid}`;
const SUBNET = `fd00:${(process.pid % 0xffff).toString(16)}::/64`;

/** Runs a command inside the test's network namespace. */
async function inNs(cmd: string, args: string[]): Promise<string> {
  return (await exec('ip', ['netns', 'exec', NS, cmd, ...args])).stdout;
}

/** The entries of a set in the namespace, sorted. */
async function setEntries(set = 'containerports'): Promise<string[]> {
  const out = await inNs('ipset', ['save', set]);
  return out
    .split('\n')
    .filter((l) => l.startsWith(`add ${set} `))
    .map((l) => l.slice(`add ${set} `.length))
    .sort();
}

async function chainRules(chain = 'FORWARD_direct'): Promise<string[]> {
  return (await inNs('ip6tables', ['-S', chain])).trim().split('\n');
}

const EXPECTED_RULES = [
  '-N FORWARD_direct',
  '-A FORWARD_direct -o docker0 -m set --match-set containerports dst,dst -j ACCEPT',
  '-A FORWARD_direct -o docker0 -j DROP',
];

// The daemon runs in a network namespace whose 127.0.0.1 the test cannot reach, so it has no
// /healthz or /metrics to read: these tests wait on its log, and check the set and rules themselves.
describe('netfilter backend with real ipset and ip6tables in a network namespace, IPv6 containers from a real dockerd', () => {
  const engine = new PrivateDockerd(`srnf${process.pid}`);
  const containers = new TestContainers(`nf-${process.pid}`, engine.env);
  let daemon: DaemonProcess | undefined;

  const start = (args: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    daemon = new DaemonProcess(
      ['--no-mirror', ...args, ...(args.some((a) => a.startsWith('netfilter:')) ? [] : ['netfilter://'])],
      {
        EC_REGISTRATOR_HOST: HOST,
        EC_REGISTRATOR_DOCKER_SOCKET: engine.socket,
        ...env,
      },
      { prefix: ['ip', 'netns', 'exec', NS] },
    );
    return daemon;
  };
  const ipv6Of = async (id: string) =>
    ((await containers.inspect(id)).NetworkSettings as unknown as { GlobalIPv6Address: string }).GlobalIPv6Address;

  before(async () => {
    await exec('ip', ['netns', 'add', NS]);
    await engine.start(false, SUBNET);
    await ensureTestImage(engine.env);
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    await containers.removeAll();
    // Each test starts from a namespace without our set and chain.
    await inNs('ip6tables', ['-F']).catch(() => undefined);
    await inNs('ip6tables', ['-X']).catch(() => undefined);
    await inNs('ipset', ['destroy']).catch(() => undefined);
  });
  after(async () => {
    await engine.destroy();
    await exec('ip', ['netns', 'del', NS]).catch(() => undefined);
  });

  it('creates the set and the rules once, across two starts', async () => {
    await start().waitForLog('reconciled');
    assert.deepEqual(await chainRules(), EXPECTED_RULES);
    assert.match(await inNs('ipset', ['list', 'containerports']), /Type: hash:ip,port\nRevision: \d+\nHeader: family inet6/);
    daemon!.signal('SIGINT');
    assert.equal(await daemon!.exited, 0);
    await start().waitForLog('reconciled');
    assert.deepEqual(await chainRules(), EXPECTED_RULES, 'no rule added twice');
    assert.equal(daemon!.count('netfilter set and rules in place'), 0, 'nothing was missing on the second start');
  });

  it('adds a port and ping entry per IPv6 container port, removes them when it stops, and ignores IPv4-only containers', async () => {
    await start().waitForLog('reconciled');
    const web = await containers.run(['-p', '80', '-p', '53/udp', TEST_IMAGE, 'httpd', '-f', '-p', '80']);
    await dockerCli(['network', 'create', `v4only-${process.pid}`], engine.env);
    try {
      await containers.run(['--network', `v4only-${process.pid}`, '-p', '8080', TEST_IMAGE, 'sleep', '1000']);
      const ip = await ipv6Of(web);
      assert.ok(ip.startsWith(SUBNET.split('::')[0]), `container has an IPv6 address from ${SUBNET}: ${ip}`);
      await waitFor(
        'entries added',
        async () =>
          JSON.stringify(await setEntries()) === JSON.stringify([`${ip},ipv6-icmp:echo-request`, `${ip},tcp:80`, `${ip},udp:53`].sort()),
      );
      await dockerCli(['stop', '-t', '1', web], engine.env);
      await waitFor('entries removed', async () => (await setEntries()).length === 0);
    } finally {
      await containers.removeAll();
      await dockerCli(['network', 'rm', `v4only-${process.pid}`], engine.env).catch(() => undefined);
    }
  });

  it('removes stale entries at reconciliation: containers gone while the daemon was down, and strangers', async () => {
    await start().waitForLog('reconciled');
    const leaving = await containers.run(['-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const staying = await containers.run(['-p', '443', TEST_IMAGE, 'sleep', '1000']);
    const [gone, kept] = [await ipv6Of(leaving), await ipv6Of(staying)];
    await waitFor('both added', async () => (await setEntries()).length === 4);
    await daemon!.kill();
    await dockerCli(['rm', '-f', leaving], engine.env);
    await inNs('ipset', ['add', 'containerports', 'fd00:dead::99,tcp:1234']);

    await start().waitForLog('reconciled');
    await waitFor(
      'only the running container is left',
      async () => JSON.stringify(await setEntries()) === JSON.stringify([`${kept},ipv6-icmp:echo-request`, `${kept},tcp:443`].sort()),
    );
    assert.ok(!(await setEntries()).some((e) => e.startsWith(`${gone},`)));
    assert.equal(daemon!.count('removed stale entries'), 1);

    // SIGTERM empties the set but leaves the set and the DROP rule: the host stays closed.
    daemon!.signal('SIGTERM');
    assert.equal(await daemon!.exited, 0);
    assert.deepEqual(await setEntries(), []);
    assert.deepEqual(await chainRules(), EXPECTED_RULES);
  });

  it('honours a custom chain and set, and puts ACCEPT before a DROP that was already there', async () => {
    await inNs('ip6tables', ['-N', 'MYCHAIN']);
    await inNs('ip6tables', ['-A', 'MYCHAIN', '-o', 'docker0', '-j', 'DROP']);
    await start(['netfilter://MYCHAIN/myset']).waitForLog('reconciled');
    assert.deepEqual(await chainRules('MYCHAIN'), [
      '-N MYCHAIN',
      '-A MYCHAIN -o docker0 -m set --match-set myset dst,dst -j ACCEPT',
      '-A MYCHAIN -o docker0 -j DROP',
    ]);
    const web = await containers.run(['-p', '80', TEST_IMAGE, 'sleep', '1000']);
    const ip = await ipv6Of(web);
    await waitFor('entry in the custom set', async () => (await setEntries('myset')).includes(`${ip},tcp:80`));
  });

  it('a missing ipset is a clear error naming it: exit 1 with -retry-attempts 0, the daemon keeps running by default', async () => {
    // A private mount namespace in which /usr/sbin (and so /sbin) is empty.
    const hide = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none /usr/sbin && exec "$@"', 'sh'];
    const run = (args: string[]) => {
      daemon = new DaemonProcess(
        ['--no-mirror', ...args, 'netfilter://'],
        { EC_REGISTRATOR_HOST: HOST, EC_REGISTRATOR_DOCKER_SOCKET: engine.socket, PATH: '/usr/bin:/bin' },
        {
          prefix: ['ip', 'netns', 'exec', NS, ...hide],
        },
      );
      return daemon;
    };
    const strict = run(['-retry-attempts', '0']);
    assert.equal(await strict.exited, 1);
    const fatal = strict.lines.find((l) => l.message === 'giving up');
    assert.match(String(fatal?.err), /ipset not found in PATH, \/usr\/sbin or \/sbin/);

    const patient = run(['-retry-interval', '200']);
    await patient.waitForLog('writer unreachable; retrying', 2);
    assert.match(String(patient.lines.find((l) => l.message === 'writer unreachable; retrying')?.err), /ipset not found/);
    assert.equal(patient.count('giving up'), 0);
  });

  it("goes through firewalld's direct passthrough while firewalld runs, and re-applies the rules after a reload", async () => {
    // firewalld cannot run in this sandbox; a firewall-cmd on PATH stands in at the narrowest seam:
    // it reports "running" and forwards passthrough calls to the namespace's real ip6tables, logging each.
    const dir = mkdtempSync(join(tmpdir(), 'sr-firewall-cmd-'));
    const log = join(dir, 'calls.log');
    writeFileSync(
      join(dir, 'firewall-cmd'),
      `#!/bin/sh\necho "$*" >> ${log}\n[ "$1" = --state ] && { echo running; exit 0; }\n[ "$1 $2 $3" = "--direct --passthrough ipv6" ] || exit 2\nshift 3\nexec ip6tables "$@"\n`,
    );
    chmodSync(join(dir, 'firewall-cmd'), 0o755);
    try {
      await start([], { PATH: `${dir}:${process.env.PATH}` }).waitForLog('reconciled');
      assert.deepEqual(await chainRules(), EXPECTED_RULES);
      const calls = readFileSync(log, 'utf8').split('\n');
      assert.ok(
        calls.includes('--direct --passthrough ipv6 -w -I FORWARD_direct 1 -o docker0 -m set --match-set containerports dst,dst -j ACCEPT'),
      );
      assert.ok(calls.includes('--direct --passthrough ipv6 -w -A FORWARD_direct -o docker0 -j DROP'));

      // A firewalld reload drops rules it did not make itself.
      await inNs('ip6tables', ['-F', 'FORWARD_direct']);
      await daemon!.waitForLog('netfilter rules re-applied', 1, 15_000);
      assert.deepEqual(await chainRules(), EXPECTED_RULES);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
