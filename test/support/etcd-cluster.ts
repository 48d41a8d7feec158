import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Etcd3 } from 'etcd3';
import { readPrefix } from '../../src/etcd/reads';
import { freePorts } from './ports';
import { waitFor } from './wait';

const exec = promisify(execFile);

/** etcd3 sets no deadline of its own: a member without a leader would hold a call for ever. */
function callDeadline(ms: number) {
  return (context: { isStream: boolean }) => (context.isStream ? {} : { deadline: Date.now() + ms });
}

/** One member of an EtcdCluster: its own process, data dir and client/peer ports on 127.0.0.1. */
class Member {
  proc?: ChildProcess;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    /** Its data dir; a restore moves it to a new one. */
    public dataDir: string,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }
}

/**
 * A real etcd cluster of `size` members on this machine (TESTING.md: "three of these with one
 * --initial-cluster list"), for faults that only a cluster has: losing the member a client talks to.
 */
export class EtcdCluster {
  readonly members: Member[];
  /** A client that knows every member, for reading the tree whichever members are up (a new one after a restore). */
  client: Etcd3;

  private constructor(members: Member[]) {
    this.members = members;
    this.client = this.newClient();
  }

  private newClient(): Etcd3 {
    return new Etcd3({
      hosts: this.members.map((m) => `http://${m.endpoint}`),
      dialTimeout: 2_000,
      defaultCallOptions: callDeadline(3_000),
    });
  }

  static async start(size = 3): Promise<EtcdCluster> {
    const base = await freePorts(size * 2);
    const members = Array.from(
      { length: size },
      (_, i) => new Member(`m${i}`, base + 2 * i, base + 2 * i + 1, mkdtempSync(join(tmpdir(), `sr-etcd-m${i}-`))),
    );
    const cluster = new EtcdCluster(members);
    await Promise.all(members.map((_, i) => cluster.launch(i, false)));
    await cluster.waitHealthy();
    return cluster;
  }

  /** Comma-separated client endpoints of every member, for EC_REGISTRATOR_ETCD_HOSTS. */
  get endpoints(): string {
    return this.members.map((m) => m.endpoint).join(',');
  }

  /** (Re)starts member `i` on its data dir; with `wait`, resolves once the cluster answers through it. */
  async launch(i: number, wait = true): Promise<void> {
    const m = this.members[i];
    const cluster = this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(',');
    m.proc = spawn(
      'etcd',
      [
        '--name',
        m.name,
        '--data-dir',
        m.dataDir,
        '--listen-client-urls',
        `http://${m.endpoint}`,
        '--advertise-client-urls',
        `http://${m.endpoint}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${m.peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${m.peerPort}`,
        '--initial-cluster',
        cluster,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        `sr-${process.pid}-${this.members[0].clientPort}`,
      ],
      { stdio: process.env.SR_ETCD_LOG ? 'inherit' : 'ignore' },
    );
    if (wait) await this.waitMember(i);
  }

  /** `etcdctl snapshot save` to `file`, through member 0. */
  async snapshot(file: string): Promise<void> {
    await exec('etcdctl', [`--endpoints=http://${this.members[0].endpoint}`, 'snapshot', 'save', file], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
  }

  /**
   * etcd's disaster recovery for a cluster: every member stopped, each restored from `file` into a
   * new data dir (`etcdctl snapshot restore` with the whole cluster and a new token: a new cluster
   * ID, the snapshot's revision), all started again at their client URLs; resolves once all answer.
   */
  async restoreFrom(file: string): Promise<void> {
    const cluster = this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(',');
    const token = `sr-restored-${process.pid}-${Date.now()}`;
    for (let i = 0; i < this.members.length; i++) await this.kill(i);
    for (const m of this.members) {
      const dir = mkdtempSync(join(tmpdir(), `sr-etcd-${m.name}-restored-`));
      rmSync(dir, { recursive: true, force: true });
      const peer = `http://127.0.0.1:${m.peerPort}`;
      const args = ['snapshot', 'restore', file, '--name', m.name, '--data-dir', dir, '--initial-cluster', cluster];
      await exec('etcdctl', [...args, '--initial-advertise-peer-urls', peer, '--initial-cluster-token', token], {
        env: { ...process.env, ETCDCTL_API: '3' },
      });
      rmSync(m.dataDir, { recursive: true, force: true });
      m.dataDir = dir;
    }
    this.client.close();
    this.client = this.newClient();
    await Promise.all(this.members.map((_, i) => this.launch(i, false)));
    await this.waitHealthy();
  }

  /** Kills member `i` (SIGKILL: an outage, not a clean leave). */
  async kill(i: number): Promise<void> {
    const proc = this.members[i].proc;
    if (!proc) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    this.members[i].proc = undefined;
  }

  /** SIGSTOP / SIGCONT one member (a freeze: its sockets stay open, nothing answers). */
  signal(i: number, sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.members[i].proc?.kill(sig);
  }

  /** Index of the member listening on this client port, if any. */
  memberByPort(port: number): number | undefined {
    const i = this.members.findIndex((m) => m.clientPort === port);
    return i < 0 ? undefined : i;
  }

  /** Every key/value under a prefix, sorted by key, read through whichever members answer. */
  async tree(prefix = '/'): Promise<Record<string, string>> {
    const map = await readPrefix(this.client, prefix);
    return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  private async waitMember(i: number): Promise<void> {
    const probe = new Etcd3({ hosts: `http://${this.members[i].endpoint}`, dialTimeout: 1_000, defaultCallOptions: callDeadline(1_000) });
    try {
      await waitFor(
        `etcd member ${this.members[i].name}`,
        async () => {
          await probe.get('probe').string();
          return true;
        },
        30_000,
        200,
      );
    } finally {
      probe.close();
    }
  }

  private async waitHealthy(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.waitMember(i);
  }

  async stop(): Promise<void> {
    this.client.close();
    for (let i = 0; i < this.members.length; i++) {
      this.signal(i, 'SIGCONT');
      await this.kill(i);
      rmSync(this.members[i].dataDir, { recursive: true, force: true });
    }
  }
}
