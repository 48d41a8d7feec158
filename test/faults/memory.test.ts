import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { EtcdServer } from '../support/etcd';
import { assertConverged, FleetHost } from '../support/fleet';
import { DaemonProbe } from '../support/daemon-probe';

const CONTAINERS = 10;
const CYCLES = 1_000;
const WARM_UP = 100;
/**
 * The first 400 cycles fill what a young process fills once (compiled code, caches, pools): the
 * heap must then stay flat over the last 600, where a leak of 1 KB per cycle would add 600 KB.
 */
const SETTLED_AFTER = 400;
const MAX_GROWTH_BYTES = 512 * 1024;

const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;

describe('memory: 1,000 container start/stop cycles', { timeout: 900_000 }, () => {
  let etcd: EtcdServer;
  const host = new FleetHost(`fm${process.pid}`, () => etcd.endpoint);
  const probe = new DaemonProbe();
  let docker: Docker;
  const ids: string[] = [];

  before(async () => {
    etcd = await EtcdServer.start();
    await host.boot();
    docker = new Docker({ socketPath: host.dockerd.socket });
    for (let i = 0; i < CONTAINERS; i++) ids.push(await host.run());
    await host.startDaemon(true, probe.env);
  });
  after(async () => {
    await host.shutdown();
    await etcd?.stop();
    probe.remove();
  });

  /** Runs `n` start/stop cycles, CONTAINERS at a time (each container stops, then starts again). */
  async function cycles(n: number): Promise<void> {
    const perContainer = Math.ceil(n / CONTAINERS);
    await Promise.all(
      ids.map(async (id) => {
        const c = docker.getContainer(id);
        for (let i = 0; i < perContainer; i++) {
          await c.kill();
          await c.wait();
          await c.start();
        }
      }),
    );
  }

  it("leaves the daemon's heap flat and the mirror exact", async (t) => {
    await cycles(WARM_UP);
    await assertConverged(etcd, [host], { timeoutMs: 120_000 });
    const samples: Array<{ cycles: number; heapUsed: number; rss: number }> = [];
    const sample = async (done: number) => {
      const m = await probe.memory();
      samples.push({ cycles: done, heapUsed: m.heapUsed, rss: m.rss });
    };
    await sample(WARM_UP);
    for (let done = WARM_UP; done < CYCLES; done += 300) {
      await cycles(300);
      await assertConverged(etcd, [host], { timeoutMs: 120_000 });
      await sample(done + 300);
    }
    const table = samples.map((s) => `after ${s.cycles} cycles: heapUsed ${mb(s.heapUsed)} MB, rss ${mb(s.rss)} MB`).join('\n');
    t.diagnostic(table);
    process.stdout.write(`# memory figures\n${table.replace(/^/gm, '#   ')}\n`);
    const settled = samples.find((s) => s.cycles === SETTLED_AFTER)!;
    const growth = samples[samples.length - 1].heapUsed - settled.heapUsed;
    assert.ok(growth < MAX_GROWTH_BYTES, `heap grew ${growth} bytes over the last ${CYCLES - SETTLED_AFTER} cycles:\n${table}`);
    assert.equal(host.daemon!.count('unhandled rejection'), 0);
  });
});
