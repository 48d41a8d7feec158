import { existsSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { freePorts } from './ports';

/**
 * A stand-in for a Consul agent's HTTP API, for tests (no Consul can be installed here). It implements
 * the endpoints the product calls, with the request and response shapes of Consul's API documentation
 * and its validation, somewhat stricter where that catches client mistakes:
 *
 * - `GET  /v1/status/leader`
 * - `PUT  /v1/agent/service/register[?replace-existing-checks]`, `PUT /v1/agent/service/deregister/<id>`
 * - `GET  /v1/agent/services`, `GET /v1/agent/service/<id>`, `GET /v1/agent/checks`
 * - `PUT  /v1/agent/check/update/<id>`, `PUT /v1/agent/check/{pass,warn,fail}/<id>`
 * - `GET|PUT|DELETE /v1/kv/<key>` with `recurse`, `keys`, `raw`, `cas`, `flags`
 *
 * Validation: a body that is not JSON, an unknown field (exact documented field names only), a value
 * of the wrong type or a bad duration is a 400 `Request decode failed: ...`; a missing service name,
 * bad Meta (keys `^[a-zA-Z0-9_-]+$`, at most 128 characters, not starting `consul-`; values at most
 * 512 bytes; at most 64 pairs) or an invalid check is a 400; an unknown service or check ID is a 404;
 * a wrong method is a 405. With a token configured, every request but `/v1/status/*` needs it
 * (`X-Consul-Token`, `Authorization: Bearer`, or `?token=`): 403 without or with another one.
 * TTL checks turn critical ("TTL expired") when not updated in time; a re-registered check keeps its
 * status, as in Consul. Every request is recorded (`requests`) so tests can assert exact bodies.
 */

export interface ConsulAgentOptions {
  /** ACL token every request must carry. */
  token?: string;
  /** Serve HTTPS; with `ca`, client certificates signed by it are required. */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
  /** Listen on this unix socket instead of TCP. */
  socketPath?: string;
  /** TCP port (default: a free one). */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  /** Decoded path without the query, e.g. `/v1/agent/service/deregister/h1:web:80`. */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed, when it was JSON. */
  json?: unknown;
  status: number;
  /** CN of the client certificate presented over TLS. */
  clientCertCN?: string;
}

export interface AgentService {
  ID: string;
  Service: string;
  Tags: string[];
  Meta: Record<string, string>;
  Port: number;
  Address: string;
  TaggedAddresses?: Record<string, unknown>;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
  Datacenter: string;
}

export interface AgentCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Interval: string;
  Timeout: string;
  ExposedPort: number;
  Definition: Record<string, unknown>;
  CreateIndex: number;
  ModifyIndex: number;
}

interface StoredCheck extends AgentCheck {
  /** TTL checks: when the status turns critical unless updated. */
  ttlMs?: number;
  expiresAt?: number;
}

interface KvEntry {
  value: Buffer;
  flags: number;
  createIndex: number;
  modifyIndex: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const NODE = 'standin';
const STATUSES = ['passing', 'warning', 'critical'];

type FieldType = 'string' | 'int' | 'bool' | 'strings' | 'object' | 'duration' | 'meta' | 'check' | 'checks' | 'headers';

/** `PUT /v1/agent/service/register` fields (Consul API docs, JSON Request Body Schema). */
const SERVICE_FIELDS: Record<string, FieldType> = {
  ID: 'string',
  Name: 'string',
  Tags: 'strings',
  Address: 'string',
  TaggedAddresses: 'object',
  Meta: 'meta',
  Namespace: 'string',
  Port: 'int',
  Kind: 'string',
  Proxy: 'object',
  Connect: 'object',
  Check: 'check',
  Checks: 'checks',
  EnableTagOverride: 'bool',
  Weights: 'object',
};

/** Check definition fields (Consul API docs, Register Check; `CheckID` in service definitions). */
const CHECK_FIELDS: Record<string, FieldType> = {
  CheckID: 'string',
  Name: 'string',
  Notes: 'string',
  Status: 'string',
  Args: 'strings',
  ScriptArgs: 'strings',
  DockerContainerID: 'string',
  Shell: 'string',
  HTTP: 'string',
  Method: 'string',
  Header: 'headers',
  Body: 'string',
  TCP: 'string',
  UDP: 'string',
  GRPC: 'string',
  GRPCUseTLS: 'bool',
  H2PING: 'string',
  H2PingUseTLS: 'bool',
  TLSServerName: 'string',
  TLSSkipVerify: 'bool',
  AliasNode: 'string',
  AliasService: 'string',
  Interval: 'duration',
  Timeout: 'duration',
  TTL: 'duration',
  DeregisterCriticalServiceAfter: 'duration',
  SuccessBeforePassing: 'int',
  FailuresBeforeCritical: 'int',
  OutputMaxSize: 'int',
};

const UPDATE_FIELDS: Record<string, FieldType> = { Status: 'string', Output: 'string' };

/** Go's time.ParseDuration syntax (a sign allowed; "0" alone too). */
const GO_DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const DURATION_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * DURATION_MS[m[2]];
  return text.startsWith('-') ? -total : total;
}

function typeOk(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string':
    case 'duration':
      return typeof value === 'string';
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'strings':
      return value === null || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    case 'object':
    case 'check':
      return value === null || (typeof value === 'object' && !Array.isArray(value));
    case 'meta':
      return (
        value === null ||
        (typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string'))
      );
    case 'headers':
      return (
        value === null ||
        (typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.values(value as object).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string')))
      );
    case 'checks':
      return value === null || (Array.isArray(value) && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v)));
  }
}

/** Decodes an object against a field table like Consul's strict decoder; throws a 400 HttpError. */
function decodeFields(body: unknown, fields: Record<string, FieldType>, where: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(
      400,
      `Request decode failed: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type ${where}`,
    );
  for (const [key, value] of Object.entries(body)) {
    const type = fields[key];
    if (!type) throw new HttpError(400, `Request decode failed: json: unknown field "${key}"`);
    if (!typeOk(type, value))
      throw new HttpError(
        400,
        `Request decode failed: json: cannot unmarshal ${JSON.stringify(value)} into Go struct field ${where}.${key}`,
      );
    if (type === 'duration' && !GO_DURATION.test(value as string))
      throw new HttpError(400, `Request decode failed: time: invalid duration "${value as string}"`);
  }
  return body as Record<string, unknown>;
}

/** Consul's structs.ValidateServiceMetadata. */
function validateMeta(meta: Record<string, string>): void {
  const pairs = Object.entries(meta);
  if (pairs.length > 64) throw new HttpError(400, 'Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs');
  for (const [key, value] of pairs) {
    if (key === '') throw new HttpError(400, 'Invalid Service Meta: Key cannot be blank');
    if (!/^[a-zA-Z0-9_-]+$/.test(key))
      throw new HttpError(400, `Invalid Service Meta: Key contains invalid characters: ${JSON.stringify(key)}`);
    if (key.length > 128) throw new HttpError(400, 'Invalid Service Meta: Key is too long (limit: 128 characters)');
    if (key.startsWith('consul-')) throw new HttpError(400, "Invalid Service Meta: Key prefix 'consul-' is reserved for internal use");
    if (Buffer.byteLength(value) > 512) throw new HttpError(400, 'Invalid Service Meta: Value is too long (limit: 512 characters)');
  }
}

/** Consul's CheckType.Validate, plus the status rule. */
function validateCheck(check: Record<string, unknown>): string {
  const isScript = Array.isArray(check.Args) && check.Args.length > 0;
  const isAlias = typeof check.AliasService === 'string' && check.AliasService !== '';
  const interval = typeof check.Interval === 'string' ? durationMs(check.Interval) : 0;
  const ttl = typeof check.TTL === 'string' ? durationMs(check.TTL) : 0;
  const intervalCheck = isScript || !!check.HTTP || !!check.TCP || !!check.GRPC || !!check.H2PING || !!check.UDP;
  if (check.ScriptArgs !== undefined && check.Args !== undefined)
    throw new HttpError(400, 'Invalid check: give Args or ScriptArgs, not both');
  if (interval > 0 && ttl > 0) throw new HttpError(400, 'Invalid check: Interval and TTL cannot both be specified');
  if (intervalCheck && interval <= 0)
    throw new HttpError(400, 'Invalid check: Interval must be > 0 for Script, HTTP, H2PING, or TCP checks');
  if (!intervalCheck && !isAlias && ttl <= 0) throw new HttpError(400, 'Invalid check: TTL must be > 0 for TTL checks');
  if (check.Status !== undefined && check.Status !== '' && !STATUSES.includes(check.Status as string)) {
    throw new HttpError(400, "Status for checks must 'passing', 'warning', 'critical'");
  }
  if (check.HTTP) return 'http';
  if (check.TCP) return 'tcp';
  if (check.GRPC) return 'grpc';
  if (check.UDP) return 'udp';
  if (check.H2PING) return 'h2ping';
  if (isScript) return check.DockerContainerID ? 'docker' : 'script';
  if (isAlias) return 'alias';
  return 'ttl';
}

export class ConsulAgentStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly services = new Map<string, AgentService>();
  readonly checks = new Map<string, StoredCheck>();
  readonly kv = new Map<string, KvEntry>();
  private index = 10;
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(readonly options: ConsulAgentOptions) {}

  /** Starts serving (on a free 127.0.0.1 port unless a port or socket is given). */
  static async start(options: ConsulAgentOptions = {}): Promise<ConsulAgentStandIn> {
    const agent = new ConsulAgentStandIn(options);
    agent.port = options.port ?? (options.socketPath ? 0 : await freePorts(1));
    await agent.listen();
    return agent;
  }

  /** A stand-in that is not listening yet (an agent that is down): `listen()` brings it up on `port`. */
  static async down(options: ConsulAgentOptions = {}): Promise<ConsulAgentStandIn> {
    const agent = new ConsulAgentStandIn(options);
    agent.port = options.port ?? (options.socketPath ? 0 : await freePorts(1));
    return agent;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  async listen(): Promise<void> {
    if (this.server) return;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.handle(req, res);
    const tls = this.options.tls;
    const server = tls
      ? https.createServer(
          { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.ca !== undefined },
          handler,
        )
      : http.createServer(handler);
    // The raw connection, also under TLS: destroying it ends the TLS session too.
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    if (this.options.socketPath && existsSync(this.options.socketPath)) unlinkSync(this.options.socketPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (this.options.socketPath) server.listen(this.options.socketPath, resolve);
      else server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Stops answering (connections are cut); the state is kept for a later `listen()`. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Recorded requests with this method whose path starts with `prefix`. */
  requestsTo(method: string, prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix));
  }

  /** A check as `GET /v1/agent/checks` would give it now (TTL expiry applied). */
  check(id: string): AgentCheck | undefined {
    const check = this.checks.get(id);
    if (!check) return undefined;
    this.expire(check);
    return publicCheck(check);
  }

  /** A service registered by hand, as an operator or another tool would. */
  putService(service: Partial<AgentService> & { ID: string; Service: string }): void {
    this.services.set(service.ID, {
      Tags: [],
      Meta: {},
      Port: 0,
      Address: '',
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Datacenter: 'dc1',
      ...service,
    });
  }

  /** KV values as strings, by key. */
  kvTree(prefix = ''): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key of [...this.kv.keys()].sort()) if (key.startsWith(prefix)) out[key] = this.kv.get(key)!.value.toString('utf8');
    return out;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://agent');
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: body.toString('utf8'),
      status: 0,
    };
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    if (peer && peer.subject) record.clientCertCN = String(peer.subject.CN);
    try {
      record.json = record.body === '' ? undefined : JSON.parse(record.body);
    } catch {
      // Not JSON: the endpoint decides whether that is an error.
    }
    this.requests.push(record);
    let status = 200;
    let payload: unknown = null;
    let raw: Buffer | undefined;
    try {
      this.authorize(url, req);
      const result = this.route(record, url, body);
      if (result instanceof Buffer) raw = result;
      else payload = result;
    } catch (err) {
      status = err instanceof HttpError ? err.status : 500;
      raw = Buffer.from(err instanceof Error ? err.message : String(err));
    }
    record.status = status;
    res.statusCode = status;
    res.setHeader('X-Consul-Index', String(this.index));
    if (raw !== undefined) {
      res.setHeader('Content-Type', status === 200 ? 'application/octet-stream' : 'text/plain; charset=utf-8');
      res.end(raw);
    } else {
      res.setHeader('Content-Type', 'application/json');
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    }
  }

  private authorize(url: URL, req: http.IncomingMessage): void {
    const required = this.options.token;
    if (!required || url.pathname.startsWith('/v1/status/')) return;
    const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const given = (req.headers['x-consul-token'] as string | undefined) ?? bearer ?? url.searchParams.get('token') ?? undefined;
    if (given === undefined || given === '') throw new HttpError(403, 'Permission denied: anonymous token lacks permission');
    if (given !== required) throw new HttpError(403, 'ACL not found');
  }

  private route(r: RecordedRequest, url: URL, body: Buffer): unknown {
    const p = r.path;
    const method = (...allowed: string[]): void => {
      if (!allowed.includes(r.method)) throw new HttpError(405, `method ${r.method} not allowed`);
    };
    if (p === '/v1/status/leader') {
      method('GET');
      return '127.0.0.1:8300';
    }
    if (p === '/v1/agent/service/register') {
      method('PUT');
      return this.register(r, url.searchParams.has('replace-existing-checks'));
    }
    if (p.startsWith('/v1/agent/service/deregister/')) {
      method('PUT');
      return this.deregister(p.slice('/v1/agent/service/deregister/'.length));
    }
    if (p === '/v1/agent/services') {
      method('GET');
      return Object.fromEntries([...this.services].map(([id, s]) => [id, structuredClone(s)]));
    }
    if (p.startsWith('/v1/agent/service/')) {
      method('GET');
      const id = p.slice('/v1/agent/service/'.length);
      const service = this.services.get(id);
      if (!service) throw new HttpError(404, `unknown service ID: ${id}`);
      return { ...structuredClone(service), ContentHash: `h${this.index}` };
    }
    if (p === '/v1/agent/checks') {
      method('GET');
      return Object.fromEntries([...this.checks.keys()].map((id) => [id, this.check(id)]));
    }
    const ttl = /^\/v1\/agent\/check\/(update|pass|warn|fail)\/(.+)$/.exec(p);
    if (ttl) {
      method('PUT');
      return this.updateTtl(ttl[1], ttl[2], r);
    }
    if (p.startsWith('/v1/kv/')) return this.kvRequest(r, p.slice('/v1/kv/'.length), url.searchParams, body);
    throw new HttpError(404, `no handler for ${p}`);
  }

  private register(r: RecordedRequest, replaceChecks: boolean): null {
    if (r.json === undefined)
      throw new HttpError(400, `Request decode failed: ${r.body === '' ? 'EOF' : 'invalid character in JSON body'}`);
    const def = decodeFields(r.json, SERVICE_FIELDS, 'structs.ServiceDefinition');
    const checks: Array<Record<string, unknown>> = [];
    if (def.Check) checks.push(decodeFields(def.Check, CHECK_FIELDS, 'structs.CheckType'));
    for (const c of (def.Checks as unknown[] | null) ?? []) checks.push(decodeFields(c, CHECK_FIELDS, 'structs.CheckType'));
    const name = (def.Name as string | undefined) ?? '';
    if (name === '') throw new HttpError(400, 'Missing service name');
    const meta = (def.Meta as Record<string, string> | null) ?? {};
    validateMeta(meta);
    const types = checks.map(validateCheck);
    const id = (def.ID as string | undefined) || name;
    const tags = (def.Tags as string[] | null) ?? [];
    this.index++;
    const service: AgentService = {
      ID: id,
      Service: name,
      Tags: [...tags],
      Meta: { ...meta },
      Port: (def.Port as number | undefined) ?? 0,
      Address: (def.Address as string | undefined) ?? '',
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: (def.EnableTagOverride as boolean | undefined) ?? false,
      Datacenter: 'dc1',
    };
    if (def.TaggedAddresses) service.TaggedAddresses = def.TaggedAddresses as Record<string, unknown>;
    this.services.set(id, service);

    const ids = new Set<string>();
    checks.forEach((c, i) => {
      const checkId = (c.CheckID as string | undefined) || `service:${id}${checks.length > 1 ? `:${i + 1}` : ''}`;
      ids.add(checkId);
      const previous = this.checks.get(checkId);
      const ttlMs = typeof c.TTL === 'string' ? durationMs(c.TTL) : 0;
      const check: StoredCheck = {
        Node: NODE,
        CheckID: checkId,
        Name: (c.Name as string | undefined) || `Service '${name}' check`,
        // A re-registered check keeps its status (Consul restores it from a snapshot of the old one).
        Status: previous ? previous.Status : (c.Status as string | undefined) || 'critical',
        Notes: (c.Notes as string | undefined) ?? '',
        Output: previous ? previous.Output : '',
        ServiceID: id,
        ServiceName: name,
        ServiceTags: [...tags],
        Type: types[i],
        Interval: (c.Interval as string | undefined) ?? '',
        Timeout: (c.Timeout as string | undefined) ?? '',
        ExposedPort: 0,
        Definition: structuredClone(c),
        CreateIndex: previous?.CreateIndex ?? this.index,
        ModifyIndex: this.index,
      };
      if (ttlMs > 0) {
        check.ttlMs = ttlMs;
        check.expiresAt = previous?.expiresAt ?? Date.now() + ttlMs;
      }
      this.checks.set(checkId, check);
    });
    if (replaceChecks) {
      for (const [checkId, check] of this.checks) if (check.ServiceID === id && !ids.has(checkId)) this.checks.delete(checkId);
    }
    return null;
  }

  private deregister(id: string): null {
    if (!this.services.has(id))
      throw new HttpError(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
    this.services.delete(id);
    for (const [checkId, check] of this.checks) if (check.ServiceID === id) this.checks.delete(checkId);
    this.index++;
    return null;
  }

  private updateTtl(action: string, id: string, r: RecordedRequest): null {
    let status: string;
    let output: string;
    if (action === 'update') {
      if (r.json === undefined) throw new HttpError(400, 'Request decode failed: EOF');
      const update = decodeFields(r.json, UPDATE_FIELDS, 'checkUpdate');
      status = (update.Status as string | undefined) ?? '';
      output = (update.Output as string | undefined) ?? '';
      if (!STATUSES.includes(status)) throw new HttpError(400, `Invalid check status: "${status}"`);
    } else {
      status = { pass: 'passing', warn: 'warning', fail: 'critical' }[action]!;
      output = r.query.note ?? '';
    }
    const check = this.checks.get(id);
    if (!check) throw new HttpError(404, `Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`);
    if (!check.ttlMs) throw new HttpError(500, `CheckID "${id}" does not have associated TTL`);
    check.Status = status;
    check.Output = output;
    check.expiresAt = Date.now() + check.ttlMs;
    check.ModifyIndex = ++this.index;
    return null;
  }

  private expire(check: StoredCheck): void {
    if (check.expiresAt !== undefined && Date.now() > check.expiresAt && check.Status !== 'critical') {
      check.Status = 'critical';
      check.Output = 'TTL expired';
    }
  }

  private kvRequest(r: RecordedRequest, key: string, q: URLSearchParams, body: Buffer): unknown {
    switch (r.method) {
      case 'GET': {
        const recurse = q.has('recurse') || q.has('keys');
        const keys = [...this.kv.keys()].filter((k) => (recurse ? k.startsWith(key) : k === key)).sort();
        if (keys.length === 0) throw new HttpError(404, '');
        if (q.has('keys')) {
          const sep = q.get('separator');
          const listed = keys.map((k) => {
            if (!sep) return k;
            const at = k.indexOf(sep, key.length);
            return at === -1 ? k : k.slice(0, at + sep.length);
          });
          return [...new Set(listed)];
        }
        if (q.has('raw')) return this.kv.get(keys[0])!.value;
        return keys.map((k) => {
          const e = this.kv.get(k)!;
          return {
            LockIndex: 0,
            Key: k,
            Flags: e.flags,
            Value: e.value.length > 0 ? e.value.toString('base64') : null,
            CreateIndex: e.createIndex,
            ModifyIndex: e.modifyIndex,
          };
        });
      }
      case 'PUT': {
        if (key === '') throw new HttpError(400, 'Missing key name');
        if (body.length > 512 * 1024) throw new HttpError(413, `Value exceeds ${512 * 1024} byte limit`);
        const flags = q.has('flags') ? Number(q.get('flags')) : 0;
        if (!Number.isInteger(flags) || flags < 0) throw new HttpError(400, 'Invalid flags');
        const existing = this.kv.get(key);
        if (q.has('cas')) {
          const cas = Number(q.get('cas'));
          if (!Number.isInteger(cas) || cas < 0) throw new HttpError(400, 'Invalid cas index');
          if (cas === 0 ? existing !== undefined : existing?.modifyIndex !== cas) return false;
        }
        this.index++;
        this.kv.set(key, { value: Buffer.from(body), flags, createIndex: existing?.createIndex ?? this.index, modifyIndex: this.index });
        return true;
      }
      case 'DELETE': {
        if (q.has('cas')) {
          const cas = Number(q.get('cas'));
          if (!Number.isInteger(cas) || cas < 0) throw new HttpError(400, 'Invalid cas index');
          const existing = this.kv.get(key);
          if (cas === 0 || existing?.modifyIndex !== cas) return false;
        }
        if (q.has('recurse')) {
          for (const k of [...this.kv.keys()]) if (k.startsWith(key)) this.kv.delete(k);
        } else {
          this.kv.delete(key);
        }
        this.index++;
        return true;
      }
      default:
        throw new HttpError(405, `method ${r.method} not allowed`);
    }
  }
}

function publicCheck(check: StoredCheck): AgentCheck {
  const { ttlMs: _ttl, expiresAt: _expires, ...rest } = check;
  return structuredClone(rest);
}
