import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { readPrefix } from '../../src/etcd/ops';
import { freePorts } from './ports';
import { waitFor } from './wait';

/** A real single-member etcd on 127.0.0.1 with its own data dir, for one test file. */
export class EtcdServer {
  readonly endpoint: string;
  readonly client: Etcd3;
  private proc?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {
    this.endpoint = `127.0.0.1:${port}`;
    this.client = new Etcd3({ hosts: `http://${this.endpoint}` });
  }

  static async start(): Promise<EtcdServer> {
    const port = await freePorts(2);
    const server = new EtcdServer(port, mkdtempSync(join(tmpdir(), 'sr-etcd-')));
    await server.launch();
    return server;
  }

  /** (Re)starts the process on the same data dir and port; resolves once it answers. */
  async launch(): Promise<void> {
    const p = this.port;
    this.proc = spawn(
      'etcd',
      [
        '--name', 't', '--data-dir', this.dataDir,
        '--listen-client-urls', `http://127.0.0.1:${p}`, '--advertise-client-urls', `http://127.0.0.1:${p}`,
        '--listen-peer-urls', `http://127.0.0.1:${p + 1}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${p + 1}`,
        '--initial-cluster', `t=http://127.0.0.1:${p + 1}`,
      ],
      { stdio: 'ignore' },
    );
    await waitFor('etcd to answer', async () => {
      await this.client.get('probe').string();
      return true;
    }, 20_000, 200);
  }

  /** Sends a signal (KILL for an outage, STOP/CONT to freeze); resolves when a KILL has taken effect. */
  async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    if (sig === 'SIGKILL' || sig === 'SIGTERM') {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill(sig);
      await exited;
      this.proc = undefined;
    } else {
      proc.kill(sig);
    }
  }

  /** Every key/value under a prefix, as a plain object sorted by key. */
  async tree(prefix = '/'): Promise<Record<string, string>> {
    const map = await readPrefix(this.client, prefix);
    return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** The lease holding a key (`'0'`: none; undefined: no such key) and that lease's granted TTL. */
  async leaseOf(key: string): Promise<{ lease: string; grantedTtl?: number } | undefined> {
    const res = await this.client.kv.range({ key: Buffer.from(key) });
    const kv = res.kvs[0];
    if (!kv) return undefined;
    const lease = String(kv.lease);
    if (lease === '0') return { lease };
    const ttl = await this.client.leaseClient.leaseTimeToLive({ ID: lease });
    return { lease, grantedTtl: Number(ttl.grantedTTL) };
  }

  async stop(): Promise<void> {
    this.client.close();
    await this.signal('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
