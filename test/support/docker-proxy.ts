import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One HTTP request a client sent through the proxy. */
export interface ProxiedRequest {
  method: string;
  /** The request target as sent, query included, e.g. `/v1.41/containers/<id>/json`. */
  target: string;
  /** Which client connection carried it (keep-alive connections carry several). */
  connection: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * Follows the HTTP/1.1 requests a client writes on one connection, so every request line is seen:
 * a head, then a body by Content-Length or chunked encoding, then the next request. After a
 * protocol upgrade (attach, exec) the rest is not HTTP and is passed over.
 */
class RequestStream {
  private buffer = Buffer.alloc(0);
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'trailer' | 'opaque' = 'head';
  private remaining = 0;

  constructor(private readonly onRequest: (method: string, target: string) => void) {}

  feed(chunk: Buffer): void {
    if (this.state === 'opaque') return;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.step());
  }

  /** Consumes what it can of the buffer; false when it needs more bytes. */
  private step(): boolean {
    switch (this.state) {
      case 'head': {
        const end = this.buffer.indexOf(HEAD_END);
        if (end === -1) return false;
        const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        this.buffer = this.buffer.subarray(end + HEAD_END.length);
        const [method, target] = lines[0].split(' ');
        this.onRequest(method, target);
        const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim().toLowerCase()]));
        if (headers.has('upgrade')) this.state = 'opaque';
        else if ((headers.get('transfer-encoding') ?? '').includes('chunked')) this.state = 'chunk-size';
        else if (Number(headers.get('content-length') ?? 0) > 0) {
          this.state = 'body';
          this.remaining = Number(headers.get('content-length'));
        }
        return this.state !== 'opaque';
      }
      case 'body':
      case 'chunk-data': {
        const take = Math.min(this.remaining, this.buffer.length);
        this.buffer = this.buffer.subarray(take);
        this.remaining -= take;
        if (this.remaining > 0) return false;
        this.state = this.state === 'body' ? 'head' : 'chunk-size';
        return true;
      }
      case 'chunk-size': {
        const end = this.buffer.indexOf(CRLF);
        if (end === -1) return false;
        const size = parseInt(this.buffer.subarray(0, end).toString('latin1').split(';')[0], 16);
        this.buffer = this.buffer.subarray(end + CRLF.length);
        if (size === 0) this.state = 'trailer';
        else {
          this.state = 'chunk-data';
          this.remaining = size + CRLF.length;
        }
        return true;
      }
      case 'trailer': {
        // Trailer lines up to an empty one; usually just the empty line.
        const end = this.buffer.indexOf(CRLF);
        if (end === -1) return false;
        this.buffer = this.buffer.subarray(end + CRLF.length);
        if (end === 0) this.state = 'head';
        return true;
      }
      default:
        return false;
    }
  }
}

/**
 * A unix-socket proxy in front of a Docker engine socket that records every HTTP request passing
 * through it (method and target), for tests that check what a client asks of Docker. Bytes are
 * forwarded untouched both ways; long streams (events) stay open as long as the client keeps them.
 */
export class DockerRecordingProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  private constructor(
    readonly socketPath: string,
    private readonly dir: string,
    private readonly server: Server,
  ) {}

  static async start(upstream = '/var/run/docker.sock'): Promise<DockerRecordingProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'sr-docker-proxy-'));
    const socketPath = join(dir, 'docker.sock');
    let proxy!: DockerRecordingProxy;
    // Half-open kept: a client may close its side (attach) and still read the engine's answer.
    const server = createServer({ allowHalfOpen: true }, (client) => proxy.accept(client, upstream));
    proxy = new DockerRecordingProxy(socketPath, dir, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return proxy;
  }

  private accept(client: Socket, upstream: string): void {
    const connection = ++this.connections;
    const engine = createConnection({ path: upstream, allowHalfOpen: true });
    for (const socket of [client, engine]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const requests = new RequestStream((method, target) => this.requests.push({ method, target, connection }));
    client.on('data', (chunk: Buffer) => requests.feed(chunk));
    client.pipe(engine);
    engine.pipe(client);
    // Either side going away ends the other, as a direct connection would.
    client.once('close', () => engine.destroy());
    engine.once('close', () => client.destroy());
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
