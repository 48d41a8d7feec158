import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log';
import type { DaemonStatus } from '../observer';
import { hostPort } from '../registrator/address';
import { health } from './health';
import type { Metrics } from './metrics';
import { statusData, type StatusSource } from './status-data';
import { statusPage } from './status-page';

export interface HttpListenerOptions {
  /** `-http-address`: the IP to bind. */
  address: string;
  /** `-http-port`: the TCP port (> 0; 0 means no listener and this is not called). */
  port: number;
  metrics: Metrics;
  status: () => DaemonStatus;
  /** What `GET /status` and `/status.json` show; without it they are 404. */
  page?: () => StatusSource | undefined;
  log: Logger;
}

export interface HttpListener {
  /** Where it listens, `ip:port`. */
  readonly url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * The optional listener (`-http-port`): `GET /metrics` (Prometheus text format), `GET /healthz`, and
 * the status page `GET /status` (HTML) with its data `GET /status.json`.
 * HEAD is answered like GET without a body; other methods get 405, other paths 404.
 * Rejects, naming the address, when it cannot bind (port in use, address not on this host).
 */
export async function startHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  const server = createServer((req, res) => {
    void handle(req, res, options).catch((err) => {
      options.log.warn('http request failed', { path: req.url, err });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  const where = hostPort(options.address, options.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'address already in use'
          : err.code === 'EADDRNOTAVAIL'
            ? 'address not available on this host'
            : err.message;
      reject(new Error(`cannot listen on ${where} (-http-address / -http-port): ${why}`));
    });
    server.listen(options.port, options.address, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  options.log.info('http listening', { address: bound.address, port: bound.port });
  return {
    url: hostPort(bound.address, bound.port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpListenerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const source = path === '/status' || path === '/status.json' ? options.page?.() : undefined;
  if (path !== '/metrics' && path !== '/healthz' && !source) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  if (path === '/metrics') {
    const registry = options.metrics.registry;
    return send(res, 200, registry.contentType, await registry.metrics());
  }
  if (source) {
    const data = statusData(source);
    if (path === '/status.json') return send(res, 200, 'application/json', `${JSON.stringify(data, null, 2)}\n`);
    return send(res, 200, 'text/html; charset=utf-8', statusPage(data));
  }
  const answer = health(options.status());
  return send(res, answer.code, 'application/json', `${JSON.stringify(answer.body)}\n`);
}

function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
