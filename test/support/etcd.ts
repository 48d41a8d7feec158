import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Etcd3, IOptions } from 'etcd3';
import { readPrefix } from '../../src/etcd/reads';
import type { TestPki } from './pki';
import { freePorts, isFree } from './ports';
import { waitFor } from './wait';

const exec = promisify(execFile);

export interface EtcdServerOptions {
  /** Serve clients on this port (peers on the next one) instead of free ones picked at random; fails when either is taken. */
  port?: number;
  /** Serve clients over TLS with this PKI's server certificate and require client certificates signed by its CA. */
  tls?: TestPki;
  /** `--quota-backend-bytes`, for a simulated fleet (etcd's default of 2 GiB holds about 1 M keys of ours). */
  quotaBytes?: number;
}

/** A real single-member etcd on 127.0.0.1 with its own data dir, for one test file. */
export class EtcdServer {
  /** `127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The endpoint with its scheme: `http://` or, with TLS, `https://`. */
  readonly url: string;
  /** A client for the test itself (root once `enableAuth` has run). */
  client: Etcd3;
  private proc?: ChildProcess;

  private constructor(
    readonly port: number,
    /** Its data dir; a restore or a rebuild moves it to a new one. */
    public dataDir: string,
    readonly options: EtcdServerOptions,
  ) {
    this.endpoint = `127.0.0.1:${port}`;
    this.url = `${options.tls ? 'https' : 'http'}://${this.endpoint}`;
    this.client = new Etcd3(this.clientOptions());
  }

  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    const port = options.port ?? (await freePorts(2));
    if (options.port !== undefined) {
      for (const p of [port, port + 1]) {
        if (!(await isFree(p)))
          throw new Error(
            `127.0.0.1:${p} is taken; this test needs etcd on ${port} (clients) and ${port + 1} (peers): stop whatever listens there`,
          );
      }
    }
    const server = new EtcdServer(port, mkdtempSync(join(tmpdir(), 'sr-etcd-')), options);
    await server.launch();
    return server;
  }

  /** etcd3 options for this server, with the PKI's client certificate under TLS. */
  clientOptions(auth?: { username: string; password: string }): IOptions {
    const tls = this.options.tls;
    return {
      hosts: this.url,
      ...(tls
        ? {
            credentials: {
              rootCertificate: readFileSync(tls.ca),
              certChain: readFileSync(tls.clientCert),
              privateKey: readFileSync(tls.clientKey),
            },
          }
        : {}),
      ...(auth ? { auth } : {}),
    };
  }

  /** Runs `etcdctl` (API v3) against this server, as `user` when given; resolves with its stdout. */
  async etcdctl(args: string[], user?: { name: string; password: string }): Promise<string> {
    const tls = this.options.tls;
    const flags = [`--endpoints=${this.url}`, ...(tls ? [`--cacert=${tls.ca}`, `--cert=${tls.clientCert}`, `--key=${tls.clientKey}`] : [])];
    const env = { ...process.env, ETCDCTL_API: '3', ...(user ? { ETCDCTL_USER: user.name, ETCDCTL_PASSWORD: user.password } : {}) };
    return (await exec('etcdctl', [...flags, ...args], { env })).stdout;
  }

  /** Adds the root user, turns authentication on, and makes `client` work as root from then on. */
  async enableAuth(rootPassword: string): Promise<void> {
    await this.etcdctl(['user', 'add', 'root', `--new-user-password=${rootPassword}`]);
    await this.etcdctl(['auth', 'enable']);
    this.client.close();
    this.client = new Etcd3(this.clientOptions({ username: 'root', password: rootPassword }));
  }

  /** (Re)starts the process on the same data dir and port; resolves once it answers. */
  async launch(): Promise<void> {
    const p = this.port;
    const tls = this.options.tls;
    this.proc = spawn(
      'etcd',
      [
        '--name',
        't',
        '--data-dir',
        this.dataDir,
        '--listen-client-urls',
        this.url,
        '--advertise-client-urls',
        this.url,
        '--listen-peer-urls',
        `http://127.0.0.1:${p + 1}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${p + 1}`,
        '--initial-cluster',
        `t=http://127.0.0.1:${p + 1}`,
        ...(tls ? ['--cert-file', tls.serverCert, '--key-file', tls.serverKey, '--client-cert-auth', '--trusted-ca-file', tls.ca] : []),
        ...(this.options.quotaBytes ? ['--quota-backend-bytes', String(this.options.quotaBytes)] : []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      'etcd to answer',
      async () => {
        await this.client.get('probe').string();
        return true;
      },
      20_000,
      200,
    );
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

  /**
   * Bytes etcd has sent to clients over gRPC so far (`etcd_network_client_grpc_sent_bytes_total`
   * on its /metrics): read before and after an operation, the difference is what that operation
   * cost etcd to answer, whatever the machine's speed.
   */
  async sentBytes(): Promise<number> {
    if (this.options.tls) throw new Error('sentBytes: only for a plain-HTTP test etcd');
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('etcd_network_client_grpc_sent_bytes_total '));
    if (!line) throw new Error('etcd /metrics has no etcd_network_client_grpc_sent_bytes_total');
    return Number(line.split(' ')[1]);
  }

  /** `etcdctl snapshot save` to `file` (etcd's documented backup). */
  async snapshot(file: string): Promise<void> {
    await this.etcdctl(['snapshot', 'save', file]);
  }

  /**
   * etcd's disaster recovery: stops the process, restores `file` into a new data dir
   * (`etcdctl snapshot restore`: a new cluster ID, the snapshot's revision) and starts it there at
   * the same client URL.
   */
  async restoreFrom(file: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'sr-etcd-restored-'));
    rmSync(dir, { recursive: true, force: true });
    const peer = `http://127.0.0.1:${this.port + 1}`;
    await this.signal('SIGKILL');
    await exec(
      'etcdctl',
      [
        'snapshot',
        'restore',
        file,
        '--name',
        't',
        '--data-dir',
        dir,
        '--initial-cluster',
        `t=${peer}`,
        '--initial-advertise-peer-urls',
        peer,
      ],
      {
        env: { ...process.env, ETCDCTL_API: '3' },
      },
    );
    await this.moveTo(dir);
  }

  /** Stops the process and starts it on a new, empty data dir at the same client URL (revision 1, a new cluster ID). */
  async rebuildEmpty(): Promise<void> {
    await this.signal('SIGKILL');
    await this.moveTo(mkdtempSync(join(tmpdir(), 'sr-etcd-')));
  }

  /** Starts on `dir` (the old data dir deleted), with a new test client: the old one's connection was to the process that is gone. */
  private async moveTo(dir: string): Promise<void> {
    rmSync(this.dataDir, { recursive: true, force: true });
    this.dataDir = dir;
    this.client.close();
    this.client = new Etcd3(this.clientOptions());
    await this.launch();
  }

  async stop(): Promise<void> {
    this.client.close();
    await this.signal('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
