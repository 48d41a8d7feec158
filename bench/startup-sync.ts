/**
 * Startup sync benchmark: the daemon's first full reconciliation against a bare reference loop
 * (list, then per container one inspect and one transaction of the same keys, concurrency 16),
 * on the same real dockerd and etcd in the same run. Prints a table and writes bench-results.json.
 *
 *   npm run bench            (BENCH_CONTAINERS=200 BENCH_ROUNDS=3 by default)
 */
import Docker from 'dockerode';
import { writeFileSync } from 'node:fs';
import { Daemon } from '../src/daemon';
import { commitOps } from '../src/etcd/ops';
import { createLogger } from '../src/log';
import { MirrorLayout, mirrorEntry } from '../src/mirror/keys';
import { MirrorWriter } from '../src/mirror/writer';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../test/support/docker';
import { EtcdServer } from '../test/support/etcd';

const COUNT = Number(process.env.BENCH_CONTAINERS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 16;
const HOST = 'bench-host';

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** The reference: what any mirror must do at minimum, with nothing else around it. */
async function referenceSync(docker: Docker, etcd: EtcdServer, dir: string): Promise<number> {
  const layout = new MirrorLayout(dir);
  const t0 = performance.now();
  const list = await docker.listContainers();
  await pool(list, CONCURRENCY, async (c) => {
    const info = await docker.getContainer(c.Id).inspect();
    await commitOps(etcd.client, [...mirrorEntry(info, HOST, layout)].map(([key, value]) => ({ put: key, value })));
  });
  return performance.now() - t0;
}

async function daemonSync(docker: Docker, etcd: EtcdServer, dir: string): Promise<{ ms: number; puts: number }> {
  const log = createLogger({ level: 'error', format: 'json' });
  const writer = new MirrorWriter(etcd.client, { dir, host: HOST }, log);
  const daemon = new Daemon(docker, [writer], log, { resyncSeconds: 0 });
  const t0 = performance.now();
  await daemon.start();
  const ms = performance.now() - t0;
  await daemon.stop(false);
  return { ms, puts: writer.stats.puts };
}

async function main(): Promise<void> {
  await ensureTestImage();
  const docker = new Docker({ socketPath: process.env.BENCH_DOCKER_SOCKET ?? '/var/run/docker.sock' });
  const etcd = await EtcdServer.start();
  const containers = new TestContainers(`bench-${process.pid}`);
  try {
    process.stdout.write(`starting ${COUNT} containers...`);
    await pool(Array.from({ length: COUNT }, (_, i) => i), 6, async (i) => {
      await containers.run(['--network', 'none', '--label', `bench.index=${i}`, '--label', 'com.example.app=bench', TEST_IMAGE, 'sleep', '100000']);
    });
    const running = (await dockerCli(['ps', '-q'])).split('\n').filter(Boolean).length;
    process.stdout.write(` ${running} running on the engine\n`);

    const ref: number[] = [];
    const dmn: number[] = [];
    let keys = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await etcd.client.delete().all();
      ref.push(await referenceSync(docker, etcd, 'bench-ref'));
      const d = await daemonSync(docker, etcd, 'bench-daemon');
      dmn.push(d.ms);
      keys = d.puts;
      // Nothing changed: a second reconciliation must write nothing.
    }
    const idle = await (async () => {
      const log = createLogger({ level: 'error', format: 'json' });
      const writer = new MirrorWriter(etcd.client, { dir: 'bench-daemon', host: HOST }, log);
      const daemon = new Daemon(docker, [writer], log, { resyncSeconds: 0 });
      await daemon.start();
      await daemon.stop(false);
      return writer.stats.puts + writer.stats.deletes;
    })();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const result = {
      containers: running,
      rounds: ROUNDS,
      referenceMs: median(ref),
      daemonMs: median(dmn),
      ratio: median(dmn) / median(ref),
      keysWritten: keys,
      writesOnIdleResync: idle,
      allReferenceMs: ref.map(Math.round),
      allDaemonMs: dmn.map(Math.round),
    };
    console.log('\nstartup sync (median of rounds)');
    console.log('| containers | reference (list+inspect+txn, c=16) | daemon first reconcile | ratio | writes on idle resync |');
    console.log('|---|---|---|---|---|');
    console.log(`| ${running} | ${result.referenceMs.toFixed(0)} ms | ${result.daemonMs.toFixed(0)} ms | ${result.ratio.toFixed(2)}x | ${idle} |`);
    writeFileSync('bench-results.json', JSON.stringify(result, null, 2));
    console.log('\nwritten to bench-results.json');
  } finally {
    await containers.removeAll();
    await etcd.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
