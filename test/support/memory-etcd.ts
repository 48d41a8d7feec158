import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Etcd3, IOptions } from 'etcd3';
import { dirname, join } from 'node:path';

/**
 * A small etcd v3 in memory, for unit tests: a gRPC server on 127.0.0.1 that speaks etcd's own
 * protocol (the .proto files etcd3 ships), so the product's real etcd3 client talks to it unchanged.
 * It keeps etcd's multi-version store: revisions, key versions, ranges at a past revision,
 * compaction, watches that replay history, leases that expire on a clock the test moves, and
 * etcd 3.4's limits and error answers (status codes and messages). test/support/etcd-contract.ts
 * runs the same cases against it and against a real etcd, so the two cannot drift apart.
 *
 * Not implemented (an UNIMPLEMENTED answer): auth, member changes, snapshots, alarms, defragment.
 */

// The same loader options as etcd3's own (connection-pool.js): enum names and int64 as strings.
const PROTO_DIR = join(dirname(require.resolve('etcd3/package.json')), 'proto');
const definition = loadSync(join(PROTO_DIR, 'rpc.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the loaded package is untyped by nature
const pb = grpc.loadPackageDefinition(definition).etcdserverpb as any;

/** etcd's defaults: --max-txn-ops, --max-request-bytes, and the gRPC receive limit it derives (plus 512 KiB). */
export const MEMORY_ETCD_LIMITS = { maxTxnOps: 128, maxRequestBytes: 1.5 * 1024 * 1024, grpcOverheadBytes: 512 * 1024 };

/** The shortest lease etcd grants with its default election settings (3 * 10 ticks / 2 * 100 ms, rounded up). */
const MIN_LEASE_TTL = 2;

type Bytes = Buffer;

/** One version of a key, or its deletion (a tombstone), in the store's history. */
interface Version {
  mod: number;
  create: number;
  version: number;
  value: Bytes;
  lease: string;
  deleted: boolean;
}

interface KeyValue {
  key: Bytes;
  create_revision: string;
  mod_revision: string;
  version: string;
  value: Bytes;
  lease: string;
}

interface Event {
  type: 'Put' | 'Delete';
  kv: KeyValue;
  prev_kv?: KeyValue;
}

interface Lease {
  id: string;
  ttl: number;
  /** On the test's clock, ms. */
  expiresAt: number;
  keys: Set<string>;
}

/** An answer etcd gives as a gRPC error. */
class EtcdStatus extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

// etcd 3.4's answers (etcdserver/api/v3rpc/rpctypes/error.go).
const errors = {
  emptyKey: () => new EtcdStatus(grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  tooManyOps: () => new EtcdStatus(grpc.status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: () => new EtcdStatus(grpc.status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  tooLarge: () => new EtcdStatus(grpc.status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  keyNotFound: () => new EtcdStatus(grpc.status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  leaseNotFound: () => new EtcdStatus(grpc.status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: () => new EtcdStatus(grpc.status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  compacted: () => new EtcdStatus(grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: () => new EtcdStatus(grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
};

/** Bytes as a string whose order is the bytes' order (latin1 maps each byte to one char). */
const str = (b: Bytes | string | undefined): string => (typeof b === 'string' ? b : Buffer.from(b ?? []).toString('latin1'));
const buf = (s: string): Bytes => Buffer.from(s, 'latin1');

/** [start, end) of a key/range_end pair as etcd reads it: no end is one key, "\0" is every key from start on. */
function interval(key: Bytes, rangeEnd: Bytes | undefined): { start: string; end: string | null; single: boolean } {
  const start = str(key);
  const end = rangeEnd && rangeEnd.length > 0 ? str(rangeEnd) : '';
  if (end === '') return { start, end: null, single: true };
  if (end === '\0') return { start: start === '\0' ? '' : start, end: null, single: false };
  return { start, end, single: false };
}

/** A test's way into the store: what was called, failures to inject, the lease clock. */
export interface MemoryEtcdCall {
  method: string;
  request: unknown;
}

export interface MemoryEtcdOptions {
  /** The header's cluster_id (a real cluster's is random): a test of a rebuilt cluster starts another with a new one. */
  clusterId?: string;
}

/** One stream of the Watch service and its watchers. */
interface WatchStream {
  call: grpc.ServerDuplexStream<unknown, unknown>;
  watchers: Map<string, Watcher>;
  nextId: number;
}

interface Watcher {
  id: string;
  start: string;
  end: string | null;
  single: boolean;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  /** Events up to this revision were sent (or skipped) already. */
  sentUpTo: number;
}

export class MemoryEtcd {
  /** `127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every unary call and stream message received, in order (tests count transactions with it). */
  readonly calls: MemoryEtcdCall[] = [];
  readonly clusterId: string;
  readonly memberId = '10276657743932975437';
  readonly raftTerm = '2';

  private revision = 1;
  private compactRevision = 0;
  /** Every key ever written, sorted, with its versions in revision order. */
  private sortedKeys: string[] = [];
  private readonly history = new Map<string, Version[]>();
  /** Events by revision, for watches that start in the past. */
  private readonly events: Array<{ revision: number; events: Event[] }> = [];
  private readonly leases = new Map<string, Lease>();
  private nextLease = 7587869183549180000n;
  private readonly streams = new Set<WatchStream>();
  private clockOffset = 0;
  private readonly failures: Array<{ method: string; status: EtcdStatus }> = [];
  private readonly expiryTimer: NodeJS.Timeout;
  private readonly clients: Etcd3[] = [];

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    options: MemoryEtcdOptions,
  ) {
    this.endpoint = `127.0.0.1:${port}`;
    this.clusterId = options.clusterId ?? '14841639068965178418';
    // Leases also expire on the wall clock, as in etcd; advance() moves time on for a test.
    this.expiryTimer = setInterval(() => this.expireLeases(), 100);
    this.expiryTimer.unref();
  }

  static async start(options: MemoryEtcdOptions = {}): Promise<MemoryEtcd> {
    const limits = MEMORY_ETCD_LIMITS;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': limits.maxRequestBytes + limits.grpcOverheadBytes });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const etcd = new MemoryEtcd(server, port, options);
    etcd.addServices();
    return etcd;
  }

  /** A client of this server (closed by stop()). */
  client(options: Partial<IOptions> = {}): Etcd3 {
    const client = new Etcd3({ hosts: `http://${this.endpoint}`, ...options });
    this.clients.push(client);
    return client;
  }

  /** The current revision. */
  get currentRevision(): number {
    return this.revision;
  }

  /** The calls of one method (`KV.Txn`, `Lease.LeaseGrant`...) since the start, or since `from`. */
  callsOf(method: string, from = 0): unknown[] {
    return this.calls.slice(from).flatMap((c) => (c.method === method ? [c.request] : []));
  }

  /** The next call of `method` (e.g. `KV.Txn`) is answered with this gRPC status instead of being served. */
  failNext(method: string, code: grpc.status, message: string): void {
    this.failures.push({ method, status: new EtcdStatus(code, message) });
  }

  /** Moves the lease clock on by `ms` and expires the leases whose time ran out, as etcd's lessor does. */
  advance(ms: number): void {
    this.clockOffset += ms;
    this.expireLeases();
  }

  /** Every live key/value under `prefix`, sorted (for assertions). */
  tree(prefix = ''): Record<string, string> {
    const out: Record<string, string> = {};
    for (const kv of this.rangeAt(this.revision, prefix, prefix === '' ? null : str(prefixEndOf(Buffer.from(prefix))), false))
      out[kv.key.toString()] = kv.value.toString();
    return out;
  }

  async stop(): Promise<void> {
    clearInterval(this.expiryTimer);
    for (const c of this.clients) c.close();
    for (const s of this.streams) s.call.end();
    this.server.forceShutdown();
    await Promise.resolve();
  }

  // --- the gRPC services ---

  private addServices(): void {
    const unary = (service: string, method: string, serve: (req: never) => unknown) => {
      const serialize = pb[service].service[method].requestSerialize as (req: unknown) => Buffer;
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.calls.push({ method: `${service}.${method}`, request: call.request });
        try {
          this.injected(`${service}.${method}`);
          // etcd refuses a request larger than --max-request-bytes (one below gRPC's own limit gets here).
          if (serialize(call.request).length > MEMORY_ETCD_LIMITS.maxRequestBytes) throw errors.tooLarge();
          callback(null, serve(call.request as never));
        } catch (err) {
          if (err instanceof EtcdStatus) callback({ code: err.code, details: err.message });
          else callback({ code: grpc.status.INTERNAL, details: `memory etcd: ${String(err)}` });
        }
      };
    };
    this.server.addService(pb.KV.service, {
      Range: unary('KV', 'Range', (r) => this.range(r)),
      Put: unary('KV', 'Put', (r) => this.write((tx) => tx.put(r))),
      DeleteRange: unary('KV', 'DeleteRange', (r) => this.write((tx) => tx.deleteRange(r))),
      Txn: unary('KV', 'Txn', (r) => this.txn(r)),
      Compact: unary('KV', 'Compact', (r: { revision: string }) => this.compact(Number(r.revision))),
    });
    this.server.addService(pb.Lease.service, {
      LeaseGrant: unary('Lease', 'LeaseGrant', (r) => this.leaseGrant(r)),
      LeaseRevoke: unary('Lease', 'LeaseRevoke', (r: { ID: string }) => this.leaseRevoke(r.ID)),
      LeaseTimeToLive: unary('Lease', 'LeaseTimeToLive', (r) => this.leaseTimeToLive(r)),
      LeaseLeases: unary('Lease', 'LeaseLeases', () => ({
        header: this.header(),
        leases: [...this.leases.keys()].map((ID) => ({ ID })),
      })),
      LeaseKeepAlive: (call: grpc.ServerDuplexStream<{ ID: string }, unknown>) => {
        call.on('data', (req: { ID: string }) => {
          this.calls.push({ method: 'Lease.LeaseKeepAlive', request: req });
          this.expireLeases();
          const lease = this.leases.get(String(req.ID));
          if (lease) lease.expiresAt = this.now() + lease.ttl * 1000;
          call.write({ header: this.header(), ID: req.ID, TTL: lease ? String(lease.ttl) : '0' });
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
    this.server.addService(pb.Watch.service, { Watch: (call: grpc.ServerDuplexStream<unknown, unknown>) => this.watchStream(call) });
    this.server.addService(pb.Maintenance.service, {
      Status: unary('Maintenance', 'Status', () => ({
        header: this.header(),
        version: '3.4.23',
        dbSize: '20480',
        leader: this.memberId,
        raftIndex: String(this.revision + 3),
        raftTerm: this.raftTerm,
        raftAppliedIndex: String(this.revision + 3),
        errors: [],
        dbSizeInUse: '20480',
        isLearner: false,
      })),
    });
    this.server.addService(pb.Cluster.service, {
      MemberList: unary('Cluster', 'MemberList', () => ({
        header: this.header(),
        members: [{ ID: this.memberId, name: 'memory', peerURLs: ['http://127.0.0.1:0'], clientURLs: [`http://${this.endpoint}`] }],
      })),
    });
  }

  private injected(method: string): void {
    const i = this.failures.findIndex((f) => f.method === method);
    if (i < 0) return;
    const [failure] = this.failures.splice(i, 1);
    throw failure.status;
  }

  /** A response header at `revision` (for the transaction code below). */
  header(revision = this.revision) {
    return { cluster_id: this.clusterId, member_id: this.memberId, revision: String(revision), raft_term: this.raftTerm };
  }

  private now(): number {
    return Date.now() + this.clockOffset;
  }

  // --- the store ---

  /** The version of `key` visible at `revision`, if it was live then. */
  private versionAt(key: string, revision: number): Version | undefined {
    const versions = this.history.get(key);
    if (!versions) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (versions[i].mod <= revision) return versions[i].deleted ? undefined : versions[i];
    }
    return undefined;
  }

  /** Index of the first key >= `key` in sortedKeys. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sortedKeys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Live keys in [start, end) at `revision`, in key order (`single`: just `start`). */
  private rangeAt(revision: number, start: string, end: string | null, single: boolean): KeyValue[] {
    const out: KeyValue[] = [];
    if (single) {
      const v = this.versionAt(start, revision);
      return v ? [kvOf(start, v)] : [];
    }
    for (let i = this.lowerBound(start); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i];
      if (end !== null && key >= end) break;
      const v = this.versionAt(key, revision);
      if (v) out.push(kvOf(key, v));
    }
    return out;
  }

  private checkRevision(revision: number): number {
    if (revision <= 0) return this.revision;
    if (revision < this.compactRevision) throw errors.compacted();
    if (revision > this.revision) throw errors.futureRev();
    return revision;
  }

  /** A range, at the store's state or, inside a transaction, at the transaction's (its earlier writes seen). */
  range(r: RangeRequest, pending?: WriteTxn) {
    if (!r.key || r.key.length === 0) throw errors.emptyKey();
    const past = Number(r.revision ?? 0) > 0;
    const revision = this.checkRevision(Number(r.revision ?? 0));
    const { start, end, single } = interval(r.key, r.range_end);
    let kvs = pending && !past ? pending.rangeNow(start, end, single) : this.rangeAt(revision, start, end, single);
    const min = (v: string | undefined) => Number(v ?? 0);
    if (min(r.min_mod_revision) > 0) kvs = kvs.filter((kv) => Number(kv.mod_revision) >= min(r.min_mod_revision));
    if (min(r.max_mod_revision) > 0) kvs = kvs.filter((kv) => Number(kv.mod_revision) <= min(r.max_mod_revision));
    if (min(r.min_create_revision) > 0) kvs = kvs.filter((kv) => Number(kv.create_revision) >= min(r.min_create_revision));
    if (min(r.max_create_revision) > 0) kvs = kvs.filter((kv) => Number(kv.create_revision) <= min(r.max_create_revision));
    const count = kvs.length;
    if (r.sort_order && r.sort_order !== 'NONE' && r.sort_order !== 'None') kvs = sorted(kvs, r.sort_target ?? 'Key', r.sort_order);
    else if (r.sort_target && r.sort_target !== 'Key' && r.sort_target !== 'KEY') kvs = sorted(kvs, r.sort_target, 'Ascend');
    const limit = Number(r.limit ?? 0);
    const more = limit > 0 && kvs.length > limit;
    if (limit > 0) kvs = kvs.slice(0, limit);
    if (r.count_only) kvs = [];
    else if (r.keys_only) kvs = kvs.map((kv) => ({ ...kv, value: Buffer.alloc(0) }));
    return { header: pending ? nestedHeader(pending.headerRevision()) : this.header(), kvs, more, count: String(count) };
  }

  /** Runs `apply` as one write at the next revision; a write that changes nothing leaves the revision where it is. */
  private write<T>(apply: (tx: WriteTxn) => T): T & { header: ReturnType<MemoryEtcd['header']> } {
    this.expireLeases();
    const tx = new WriteTxn(this);
    const result = apply(tx);
    tx.commit();
    return { ...result, header: this.header() };
  }

  private txn(r: TxnRequest) {
    checkTxn(r, MEMORY_ETCD_LIMITS.maxTxnOps);
    checkIntervals(r.success ?? []);
    checkIntervals(r.failure ?? []);
    this.expireLeases();
    // As etcd: every compare of the whole tree is judged before anything is applied, then the chosen path is checked.
    const path = this.txnPath(r);
    this.checkPath(r, path);
    const tx = new WriteTxn(this);
    const response = tx.txn(r, path);
    tx.commit();
    return { ...response, header: this.header() };
  }

  /** Which branch each (nested) transaction takes, judged on the store as it is before the transaction. */
  private txnPath(r: TxnRequest): boolean[] {
    const ok = (r.compare ?? []).every((c) => this.compare(c));
    const path = [ok];
    for (const op of (ok ? r.success : r.failure) ?? []) if (op.request_txn) path.push(...this.txnPath(op.request_txn));
    return path;
  }

  private checkPath(r: TxnRequest, path: boolean[], at = { i: 0 }): void {
    const ok = path[at.i++];
    for (const op of (ok ? r.success : r.failure) ?? []) {
      if (op.request_put) this.checkPut(op.request_put);
      if (op.request_range && Number(op.request_range.revision) > 0) this.checkRevision(Number(op.request_range.revision));
      if (op.request_txn) this.checkPath(op.request_txn, path, at);
    }
  }

  checkPut(p: PutRequest): void {
    if (!p.key || p.key.length === 0) throw errors.emptyKey();
    const lease = String(p.lease ?? '0');
    if (lease !== '0' && !p.ignore_lease && !this.leases.has(lease)) throw errors.leaseNotFound();
    if ((p.ignore_value || p.ignore_lease) && !this.versionAt(str(p.key), this.revision)) throw errors.keyNotFound();
  }

  private compare(c: Compare): boolean {
    const { start, end, single } = interval(c.key, c.range_end);
    const kvs = this.rangeAt(this.revision, start, end, single);
    if (kvs.length === 0) return c.target === 'Value' || c.target === 'VALUE' ? false : compareKv(c, undefined);
    return kvs.every((kv) => compareKv(c, kv));
  }

  private compact(revision: number) {
    if (revision <= this.compactRevision) throw errors.compacted();
    if (revision > this.revision) throw errors.futureRev();
    this.compactRevision = revision;
    for (const [key, versions] of this.history) {
      // Keep the version live at `revision` (unless it is a tombstone) and everything after it.
      let keepFrom = versions.findIndex((v) => v.mod > revision);
      if (keepFrom < 0) keepFrom = versions.length;
      const atRevision = keepFrom > 0 ? versions[keepFrom - 1] : undefined;
      const kept = versions.slice(keepFrom);
      if (atRevision && !atRevision.deleted) kept.unshift(atRevision);
      if (kept.length === 0) this.history.delete(key);
      else this.history.set(key, kept);
    }
    this.sortedKeys = this.sortedKeys.filter((k) => this.history.has(k));
    while (this.events.length > 0 && this.events[0].revision < revision) this.events.shift();
    return { header: this.header() };
  }

  /** Records a write made by a WriteTxn at `revision` (the store's next one). */
  record(key: string, version: Version, event: Event): void {
    let versions = this.history.get(key);
    if (!versions) {
      versions = [];
      this.history.set(key, versions);
      this.sortedKeys.splice(this.lowerBound(key), 0, key);
    }
    versions.push(version);
    const last = this.events[this.events.length - 1];
    if (last?.revision === version.mod) last.events.push(event);
    else this.events.push({ revision: version.mod, events: [event] });
  }

  /** The version of `key` live now (before the write in progress). */
  live(key: string): Version | undefined {
    return this.versionAt(key, this.revision);
  }

  keysIn(start: string, end: string | null): string[] {
    const out: string[] = [];
    for (let i = this.lowerBound(start); i < this.sortedKeys.length; i++) {
      if (end !== null && this.sortedKeys[i] >= end) break;
      out.push(this.sortedKeys[i]);
    }
    return out;
  }

  leaseOf(id: string): Lease | undefined {
    return this.leases.get(id);
  }

  /** Called by a WriteTxn that changed something: the revision moves on and watchers hear of it. */
  committed(revision: number): void {
    this.revision = revision;
    for (const s of this.streams) for (const w of s.watchers.values()) this.sendEvents(s, w);
  }

  // --- leases ---

  private leaseGrant(r: { ID: string; TTL: string }) {
    this.expireLeases();
    let id = String(r.ID ?? '0');
    if (id === '0') id = String(this.nextLease++);
    else if (this.leases.has(id)) throw errors.leaseExists();
    const ttl = Math.max(MIN_LEASE_TTL, Number(r.TTL));
    this.leases.set(id, { id, ttl, expiresAt: this.now() + ttl * 1000, keys: new Set() });
    return { header: this.header(), ID: id, TTL: String(ttl), error: '' };
  }

  private leaseRevoke(id: string) {
    this.expireLeases();
    const lease = this.leases.get(String(id));
    if (!lease) throw errors.leaseNotFound();
    this.revokeLease(lease);
    return { header: this.header() };
  }

  private leaseTimeToLive(r: { ID: string; keys: boolean }) {
    this.expireLeases();
    const lease = this.leases.get(String(r.ID));
    if (!lease) return { header: this.header(), ID: r.ID, TTL: '-1', grantedTTL: '0', keys: [] };
    const left = Math.max(0, Math.ceil((lease.expiresAt - this.now()) / 1000));
    return {
      header: this.header(),
      ID: lease.id,
      TTL: String(left),
      grantedTTL: String(lease.ttl),
      keys: r.keys ? [...lease.keys].sort().map(buf) : [],
    };
  }

  /** A lease's keys are deleted in one revision, as etcd's revoke and expiry do. */
  private revokeLease(lease: Lease): void {
    this.leases.delete(lease.id);
    const tx = new WriteTxn(this);
    for (const key of [...lease.keys].sort()) tx.deleteKey(key, false);
    tx.commit();
  }

  private expireLeases(): void {
    const now = this.now();
    for (const lease of [...this.leases.values()]) if (lease.expiresAt <= now) this.revokeLease(lease);
  }

  // --- watches ---

  private watchStream(call: grpc.ServerDuplexStream<unknown, unknown>): void {
    const stream: WatchStream = { call, watchers: new Map(), nextId: 0 };
    this.streams.add(stream);
    const close = () => this.streams.delete(stream);
    call.on('error', close);
    call.on('cancelled', close);
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('data', (req: WatchRequest) => {
      this.calls.push({ method: 'Watch.Watch', request: req });
      if (req.create_request) this.createWatcher(stream, req.create_request);
      else if (req.cancel_request) {
        const id = String(req.cancel_request.watch_id);
        if (stream.watchers.delete(id)) call.write({ header: this.header(), watch_id: id, canceled: true, created: false, events: [] });
      } else if (req.progress_request) {
        // etcd 3.4: a progress answer belongs to no watcher (watch_id -1) and carries the current revision.
        call.write({ header: this.header(), watch_id: '-1', created: false, canceled: false, events: [] });
      }
    });
  }

  private createWatcher(stream: WatchStream, r: WatchCreateRequest): void {
    const id = Number(r.watch_id ?? 0) > 0 ? String(r.watch_id) : String(stream.nextId++);
    const { start, end, single } = interval(r.key, r.range_end);
    const filters = (r.filters ?? []).map(String);
    const startRevision = Number(r.start_revision ?? 0);
    stream.call.write({ header: this.header(), watch_id: id, created: true, canceled: false, events: [] });
    if (startRevision > 0 && startRevision < this.compactRevision) {
      // etcd 3.4 cancels a watch from a compacted revision with its compact_revision and no reason.
      stream.call.write({
        header: this.header(),
        watch_id: id,
        created: false,
        canceled: true,
        compact_revision: String(this.compactRevision),
        cancel_reason: '',
        events: [],
      });
      return;
    }
    const watcher: Watcher = {
      id,
      start,
      end,
      single,
      noPut: filters.some((f) => /^noput$/i.test(f)),
      noDelete: filters.some((f) => /^nodelete$/i.test(f)),
      prevKv: Boolean(r.prev_kv),
      sentUpTo: startRevision > 0 ? startRevision - 1 : this.revision,
    };
    stream.watchers.set(id, watcher);
    this.sendEvents(stream, watcher);
  }

  /** Sends a watcher every event it has not had yet, one response per revision (as etcd groups them). */
  private sendEvents(stream: WatchStream, w: Watcher): void {
    for (const { revision, events } of this.events) {
      if (revision <= w.sentUpTo) continue;
      w.sentUpTo = revision;
      const matching = events.filter((e) => {
        const key = str(e.kv.key);
        const inRange = w.single ? key === w.start : key >= w.start && (w.end === null || key < w.end);
        return inRange && !(e.type === 'Put' && w.noPut) && !(e.type === 'Delete' && w.noDelete);
      });
      if (matching.length === 0) continue;
      stream.call.write({
        header: this.header(revision),
        watch_id: w.id,
        created: false,
        canceled: false,
        events: matching.map((e) => (w.prevKv ? e : { type: e.type, kv: e.kv })),
      });
    }
    w.sentUpTo = Math.max(w.sentUpTo, this.revision);
  }
}

/**
 * The writes of one request (a put, a delete, a transaction) at the store's next revision. Reads
 * inside a transaction see its earlier writes, as in etcd.
 */
class WriteTxn {
  readonly revision: number;
  private readonly pending = new Map<string, Version>();
  private readonly order: Array<{ key: string; version: Version; event: Event }> = [];

  constructor(private readonly store: MemoryEtcd) {
    this.revision = store.currentRevision + 1;
  }

  headerRevision(): number {
    return this.order.length > 0 ? this.revision : this.store.currentRevision;
  }

  private current(key: string): Version | undefined {
    if (this.pending.has(key)) {
      const v = this.pending.get(key)!;
      return v.deleted ? undefined : v;
    }
    return this.store.live(key);
  }

  rangeNow(start: string, end: string | null, single: boolean): KeyValue[] {
    const keys = single ? [start] : [...new Set([...this.store.keysIn(start, end), ...this.pendingKeysIn(start, end)])].sort();
    const out: KeyValue[] = [];
    for (const key of keys) {
      const v = this.current(key);
      if (v) out.push(kvOf(key, v));
    }
    return out;
  }

  private pendingKeysIn(start: string, end: string | null): string[] {
    return [...this.pending.keys()].filter((k) => k >= start && (end === null || k < end));
  }

  put(p: PutRequest) {
    this.store.checkPut(p);
    const key = str(p.key);
    const prev = this.current(key);
    const lease = p.ignore_lease ? prev!.lease : String(p.lease ?? '0');
    const version: Version = {
      mod: this.revision,
      create: prev ? prev.create : this.revision,
      version: prev ? prev.version + 1 : 1,
      value: p.ignore_value ? prev!.value : Buffer.from(p.value ?? []),
      lease,
      deleted: false,
    };
    if (prev && prev.lease !== '0') this.store.leaseOf(prev.lease)?.keys.delete(key);
    if (lease !== '0') this.store.leaseOf(lease)?.keys.add(key);
    this.set(key, version, { type: 'Put', kv: kvOf(key, version), ...(prev ? { prev_kv: kvOf(key, prev) } : {}) });
    return { prev_kv: p.prev_kv && prev ? kvOf(key, prev) : null };
  }

  deleteRange(d: DeleteRangeRequest) {
    if (!d.key || d.key.length === 0) throw errors.emptyKey();
    const { start, end, single } = interval(d.key, d.range_end);
    const live = this.rangeNow(start, end, single);
    for (const kv of live) this.deleteKey(str(kv.key), true);
    return { deleted: String(live.length), prev_kvs: d.prev_kv ? live : [] };
  }

  deleteKey(key: string, dropFromLease: boolean): void {
    const prev = this.current(key);
    if (!prev) return;
    if (dropFromLease && prev.lease !== '0') this.store.leaseOf(prev.lease)?.keys.delete(key);
    const tombstone: Version = { mod: this.revision, create: 0, version: 0, value: Buffer.alloc(0), lease: '0', deleted: true };
    const kv: KeyValue = {
      key: buf(key),
      create_revision: '0',
      mod_revision: String(this.revision),
      version: '0',
      value: Buffer.alloc(0),
      lease: '0',
    };
    this.set(key, tombstone, { type: 'Delete', kv, prev_kv: kvOf(key, prev) });
  }

  txn(r: TxnRequest, path: boolean[], at = { i: 0 }): { succeeded: boolean; responses: unknown[] } {
    const succeeded = path[at.i++];
    const responses: unknown[] = [];
    for (const op of (succeeded ? r.success : r.failure) ?? []) {
      // Responses inside a transaction carry only a revision in their header; etcd fills the outer one alone.
      if (op.request_range) responses.push({ response_range: this.store.range(op.request_range, this) });
      else if (op.request_put)
        responses.push({ response_put: { ...this.put(op.request_put), header: nestedHeader(this.headerRevision()) } });
      else if (op.request_delete_range)
        responses.push({
          response_delete_range: { ...this.deleteRange(op.request_delete_range), header: nestedHeader(this.headerRevision()) },
        });
      else if (op.request_txn)
        responses.push({ response_txn: { ...this.txn(op.request_txn, path, at), header: nestedHeader(this.headerRevision()) } });
    }
    return { succeeded, responses };
  }

  private set(key: string, version: Version, event: Event): void {
    this.order.push({ key, version, event });
    this.pending.set(key, version);
  }

  commit(): void {
    if (this.order.length === 0) return;
    for (const { key, version, event } of this.order) this.store.record(key, version, event);
    this.store.committed(this.revision);
  }
}

function nestedHeader(revision: number) {
  return { cluster_id: '0', member_id: '0', revision: String(revision), raft_term: '0' };
}

function kvOf(key: string, v: Version): KeyValue {
  return {
    key: buf(key),
    create_revision: String(v.create),
    mod_revision: String(v.mod),
    version: String(v.version),
    value: v.value,
    lease: v.lease,
  };
}

function prefixEndOf(prefix: Bytes): Bytes {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function sorted(kvs: KeyValue[], target: string, order: string): KeyValue[] {
  const t = target.toLowerCase();
  const field = (kv: KeyValue): string | number =>
    t === 'version'
      ? Number(kv.version)
      : t === 'create'
        ? Number(kv.create_revision)
        : t === 'mod'
          ? Number(kv.mod_revision)
          : t === 'value'
            ? str(kv.value)
            : str(kv.key);
  const out = [...kvs].sort((a, b) => (field(a) < field(b) ? -1 : field(a) > field(b) ? 1 : 0));
  return /^descend$/i.test(order) ? out.reverse() : out;
}

function compareKv(c: Compare, kv: KeyValue | undefined): boolean {
  const target = String(c.target).toLowerCase();
  let cmp: number;
  if (target === 'value') {
    cmp = Buffer.compare(kv?.value ?? Buffer.alloc(0), Buffer.from(c.value ?? []));
  } else {
    const actual = BigInt(
      target === 'version'
        ? (kv?.version ?? 0)
        : target === 'create'
          ? (kv?.create_revision ?? 0)
          : target === 'mod'
            ? (kv?.mod_revision ?? 0)
            : (kv?.lease ?? 0),
    );
    const wanted = BigInt(
      (target === 'version' ? c.version : target === 'create' ? c.create_revision : target === 'mod' ? c.mod_revision : c.lease) ?? 0,
    );
    cmp = actual < wanted ? -1 : actual > wanted ? 1 : 0;
  }
  switch (String(c.result).toLowerCase()) {
    case 'equal':
      return cmp === 0;
    case 'greater':
      return cmp > 0;
    case 'less':
      return cmp < 0;
    default:
      return cmp !== 0;
  }
}

/** etcd's checkTxnRequest: each list within the limit, a nested transaction within what its parent leaves. */
function checkTxn(r: TxnRequest, maxOps: number): void {
  const count = Math.max(r.compare?.length ?? 0, r.success?.length ?? 0, r.failure?.length ?? 0);
  if (count > maxOps) throw errors.tooManyOps();
  for (const c of r.compare ?? []) if (!c.key || c.key.length === 0) throw errors.emptyKey();
  for (const op of [...(r.success ?? []), ...(r.failure ?? [])]) {
    if (op.request_txn) checkTxn(op.request_txn, maxOps - count);
    else if (op.request_put && (!op.request_put.key || op.request_put.key.length === 0)) throw errors.emptyKey();
    else if (op.request_delete_range && (!op.request_delete_range.key || op.request_delete_range.key.length === 0)) throw errors.emptyKey();
    else if (op.request_range && (!op.request_range.key || op.request_range.key.length === 0)) throw errors.emptyKey();
  }
}

/** etcd's checkIntervals: no key put twice, nor put inside a range the same transaction deletes (across nesting). */
function checkIntervals(ops: RequestOp[]): { puts: Set<string>; dels: Array<{ start: string; end: string | null; single: boolean }> } {
  const dels = ops.flatMap((op) =>
    op.request_delete_range ? [interval(op.request_delete_range.key, op.request_delete_range.range_end)] : [],
  );
  const deleted = (key: string) => dels.some((d) => (d.single ? d.start === key : key >= d.start && (d.end === null || key < d.end)));
  const puts = new Set<string>();
  for (const op of ops) {
    if (!op.request_txn) continue;
    const then = checkIntervals(op.request_txn.success ?? []);
    const otherwise = checkIntervals(op.request_txn.failure ?? []);
    for (const k of then.puts) {
      if (puts.has(k) || deleted(k)) throw errors.duplicateKey();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || deleted(k)) throw errors.duplicateKey();
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (!op.request_put) continue;
    const k = str(op.request_put.key);
    if (puts.has(k) || deleted(k)) throw errors.duplicateKey();
    puts.add(k);
  }
  return { puts, dels };
}

// The request shapes as the loader decodes them (only the fields used here).
interface RangeRequest {
  key: Bytes;
  range_end?: Bytes;
  limit?: string;
  revision?: string;
  sort_order?: string;
  sort_target?: string;
  keys_only?: boolean;
  count_only?: boolean;
  min_mod_revision?: string;
  max_mod_revision?: string;
  min_create_revision?: string;
  max_create_revision?: string;
}
interface PutRequest {
  key: Bytes;
  value?: Bytes;
  lease?: string;
  prev_kv?: boolean;
  ignore_value?: boolean;
  ignore_lease?: boolean;
}
interface DeleteRangeRequest {
  key: Bytes;
  range_end?: Bytes;
  prev_kv?: boolean;
}
interface Compare {
  result: string;
  target: string;
  key: Bytes;
  range_end?: Bytes;
  version?: string;
  create_revision?: string;
  mod_revision?: string;
  value?: Bytes;
  lease?: string;
}
interface RequestOp {
  request_range?: RangeRequest;
  request_put?: PutRequest;
  request_delete_range?: DeleteRangeRequest;
  request_txn?: TxnRequest;
}
interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}
interface WatchCreateRequest {
  key: Bytes;
  range_end?: Bytes;
  start_revision?: string;
  filters?: string[];
  prev_kv?: boolean;
  watch_id?: string;
}
interface WatchRequest {
  create_request?: WatchCreateRequest;
  cancel_request?: { watch_id: string };
  progress_request?: object;
}
