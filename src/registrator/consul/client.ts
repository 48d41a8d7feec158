import http from 'node:http';
import https from 'node:https';

/** Where a Consul agent listens: TCP (optionally TLS) or a unix socket. */
export type ConsulEndpoint = { kind: 'tcp'; host: string; port: number; tls?: ConsulTls } | { kind: 'unix'; socketPath: string };

/** PEM material for `https://`; without `ca` the system CAs verify the agent. */
export interface ConsulTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** SNI and certificate name to expect, when it differs from the host connected to. */
  servername?: string;
}

export interface ConsulClientOptions {
  endpoint: ConsulEndpoint;
  /** ACL token, sent as `X-Consul-Token` on every request. */
  token?: string;
  /** Deadline of every call, connection and response body included (default 5 s). */
  timeoutMs?: number;
}

/** Consul answered with a status outside 2xx. */
export class ConsulError extends Error {
  override readonly name = 'ConsulError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`consul ${method} ${path}: ${status} ${body.trim().slice(0, 300)}`.trim());
  }
}

/** The request did not get an answer: connection refused or reset, TLS failure, socket missing. */
class ConsulRequestError extends Error {
  override readonly name: string = 'ConsulRequestError';
  readonly code?: string;
  constructor(
    readonly method: string,
    readonly path: string,
    message: string,
    code?: string,
  ) {
    super(`consul ${method} ${path}: ${message}`);
    this.code = code;
  }
}

/** No complete answer before the call's deadline. */
class ConsulTimeoutError extends ConsulRequestError {
  override readonly name = 'ConsulTimeoutError';
  constructor(method: string, path: string, timeoutMs: number) {
    super(method, path, `no answer within ${timeoutMs} ms`, 'ETIMEDOUT');
  }
}

export interface ConsulResponse {
  status: number;
  body: string;
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (KV values). */
  raw?: string;
  /** Query parameters; `true` gives a bare flag (`?recurse`). */
  query?: Record<string, string | number | true | undefined>;
  /** Statuses that resolve instead of throwing a ConsulError (e.g. 404 for "not there"). */
  accept?: number[];
}

/** One URL path segment, escaped: `web:80` stays readable, `custom/id` keeps its slash escaped. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** A KV key as a URL path: each `/`-separated part escaped, the slashes kept. */
export function keyPath(key: string): string {
  return key.split('/').map(segment).join('/');
}

/**
 * A minimal Consul HTTP API client on node:http/node:https: TCP, TLS (CA, client certificate) or a
 * unix socket, the ACL token on every request, and a hard deadline on every call.
 */
export class ConsulClient {
  /** `http://127.0.0.1:8500`, `https://consul:8501` or `unix:///path.sock`, for logs. */
  readonly address: string;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: ConsulClientOptions) {
    const e = options.endpoint;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    if (e.kind === 'unix') {
      this.address = `unix://${e.socketPath}`;
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    } else {
      const host = e.host.includes(':') ? `[${e.host}]` : e.host;
      this.address = `${e.tls ? 'https' : 'http'}://${host}:${e.port}`;
      this.agent = e.tls
        ? new https.Agent({ keepAlive: true, maxSockets: 8, ca: e.tls.ca, cert: e.tls.cert, key: e.tls.key, servername: e.tls.servername })
        : new http.Agent({ keepAlive: true, maxSockets: 8 });
    }
  }

  /** Sends one request; resolves with the answer, or throws ConsulError / ConsulRequestError / ConsulTimeoutError. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<ConsulResponse> {
    const fullPath = path + queryString(options.query);
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.raw;
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (this.options.token) headers['X-Consul-Token'] = this.options.token;
    if (body !== undefined) {
      headers['Content-Type'] = options.json !== undefined ? 'application/json' : 'application/octet-stream';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const e = this.options.endpoint;
    const target: https.RequestOptions =
      e.kind === 'unix'
        ? { socketPath: e.socketPath, path: fullPath, method, headers, agent: this.agent }
        : { host: e.host, port: e.port, path: fullPath, method, headers, agent: this.agent, servername: e.tls?.servername };
    const send = e.kind === 'tcp' && e.tls ? https.request : http.request;

    return new Promise<ConsulResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, response?: ConsulResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(response!);
      };
      const req = send(target, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err: NodeJS.ErrnoException) => finish(new ConsulRequestError(method, path, err.message, err.code)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if ((status >= 200 && status < 300) || options.accept?.includes(status)) finish(undefined, { status, body: text });
          else finish(new ConsulError(method, path, status, text));
        });
      });
      const timer = setTimeout(() => {
        finish(new ConsulTimeoutError(method, path, this.timeoutMs));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish(new ConsulRequestError(method, path, err.message, err.code)));
      req.end(body);
    });
  }

  /** A request whose answer is JSON (`undefined` for an accepted non-2xx status or an empty body). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T | undefined> {
    const response = await this.request(method, path, options);
    if (response.status < 200 || response.status >= 300 || response.body.trim() === '') return undefined;
    try {
      return JSON.parse(response.body) as T;
    } catch {
      throw new ConsulError(method, path, response.status, `answer is not JSON: ${response.body.slice(0, 200)}`);
    }
  }

  /** `GET /v1/status/leader`: resolves when the agent answers (the leader may be `""` during an election). */
  async leader(): Promise<string> {
    return (await this.json<string>('GET', '/v1/status/leader')) ?? '';
  }

  close(): void {
    this.agent.destroy();
  }
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    parts.push(value === true ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}
