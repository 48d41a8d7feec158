import type { Etcd3 } from 'etcd3';
import { commitSplit as commitOps } from '../src/etcd/commit';
import { readPrefix, readStoredKeys } from '../src/etcd/reads';
import type { EtcdServer } from '../test/support/etcd';
import { fillFleet, SimulatedFleet, simulatedKeys } from '../test/support/fleet-fill';

/** One request timed on both etcds: etcd's own cost per request, whatever the daemon does. */
export interface EtcdLatency {
  request: string;
  emptyMs: number;
  filledMs: number;
}

/** The same 100 containers of one host, written into both etcds so the requests read the same keys. */
const PROBE: SimulatedFleet = { hosts: 1, containers: 100, prefix: 'probe', uris: ['hamesh:///hamesh', 'etcd:///services'] };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** The requests a reconciliation makes, against one etcd holding the probe host's keys. */
async function requestsOn(client: Etcd3): Promise<Array<[string, (i: number) => Promise<unknown>]>> {
  const records = [...(await readPrefix(client, '/_registrator/owners/probe0000/')).keys()].slice(0, 128);
  return [
    ["read one host's hosts/ keys (100 keys, readPrefix)", () => readPrefix(client, '/registry/hosts/probe0000/')],
    ['read 128 keys in one transaction (readStoredKeys)', () => readStoredKeys(client, records)],
    ['put one key', async (i) => void (await client.put(`/probe-latency/${i}`).value('x'))],
  ];
}

async function timed(request: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await request();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * What the same requests cost etcd on the empty and the filled etcd, timed one after another in
 * the same run: a daemon that asks exactly the same of both (same bytes) still waits longer on the
 * filled one by this much.
 */
export async function etcdLatency(empty: EtcdServer, filled: EtcdServer, samples = 200): Promise<EtcdLatency[]> {
  const clients = [empty.client, filled.client];
  await Promise.all(clients.map((c) => fillFleet(c, PROBE)));
  const [onEmpty, onFilled] = await Promise.all(clients.map(requestsOn));
  const out: EtcdLatency[] = [];
  for (const [i, [request, onE]] of onEmpty.entries()) {
    const [e, f]: number[][] = [[], []];
    // Alternated, sample by sample, so warming up and drift fall on both alike.
    for (let n = 0; n < samples; n++) {
      e.push(await timed(() => onE(n)));
      f.push(await timed(() => onFilled[i][1](n)));
    }
    out.push({ request, emptyMs: median(e), filledMs: median(f) });
  }
  for (const client of clients) {
    await client.delete().prefix('/probe-latency/');
    await commitOps(
      client,
      [...simulatedKeys(PROBE)].map(([key]) => ({ delete: key })),
    );
  }
  return out;
}
