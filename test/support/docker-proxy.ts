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

/** A run of bytes a client wrote, in order; `request` is set when the run is a request's head. */
interface Piece {
  bytes: Buffer;
  request?: { method: string; target: string };
}

/**
 * Follows the HTTP/1.1 requests a client writes on one connection, so every request line is seen:
 * a head, then a body by Content-Length or chunked encoding, then the next request. After a
 * protocol upgrade (attach, exec) the rest is not HTTP and is passed over.
 */
class RequestStream {
  private buffer = Buffer.alloc(0);
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'trailer' | 'opaque' = 'head';
  private remaining = 0;
  private pieces: Piece[] = [];

  /** Splits what arrived into pieces to forward; bytes of an incomplete line wait for the next chunk. */
  feed(chunk: Buffer): Piece[] {
    if (this.passingOver()) return [{ bytes: chunk }];
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.step());
    if (this.passingOver() && this.buffer.length > 0) this.take(this.buffer.length);
    const pieces = this.pieces;
    this.pieces = [];
    return pieces;
  }

  /** After an upgrade: no more HTTP to follow on this connection. */
  private passingOver(): boolean {
    return this.state === 'opaque';
  }

  /** Moves `n` bytes from the buffer to the pieces to forward. */
  private take(n: number, request?: Piece['request']): void {
    this.pieces.push({ bytes: this.buffer.subarray(0, n), request });
    this.buffer = this.buffer.subarray(n);
  }

  /** Consumes what it can of the buffer; false when it needs more bytes. */
  private step(): boolean {
    switch (this.state) {
      case 'head': {
        const end = this.buffer.indexOf(HEAD_END);
        if (end === -1) return false;
        const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const [method, target] = lines[0].split(' ');
        this.take(end + HEAD_END.length, { method, target });
        const headers = new Map(
          lines.slice(1).map((l) => [
            l.slice(0, l.indexOf(':')).trim().toLowerCase(),
            l
              .slice(l.indexOf(':') + 1)
              .trim()
              .toLowerCase(),
          ]),
        );
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
        const n = Math.min(this.remaining, this.buffer.length);
        if (n > 0) this.take(n);
        this.remaining -= n;
        if (this.remaining > 0) return false;
        this.state = this.state === 'body' ? 'head' : 'chunk-size';
        return true;
      }
      case 'chunk-size': {
        const end = this.buffer.indexOf(CRLF);
        if (end === -1) return false;
        const size = parseInt(this.buffer.subarray(0, end).toString('latin1').split(';')[0], 16);
        this.take(end + CRLF.length);
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
        this.take(end + CRLF.length);
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
 * through it (method and target), for tests that check what a client asks of Docker. It can also
 * break every connection (a lost event stream) and hold back chosen requests until released (a
 * container removed between its event and the inspect). Bytes are forwarded untouched, in order.
 */
export class DockerProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  private holdMatch?: (r: ProxiedRequest) => boolean;
  private held: Array<() => void> = [];

  private constructor(
    readonly socketPath: string,
    private readonly dir: string,
    private server: Server,
    private readonly upstream: string,
  ) {}

  static async start(upstream = '/var/run/docker.sock'): Promise<DockerProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'sr-docker-proxy-'));
    const socketPath = join(dir, 'docker.sock');
    // Half-open kept: a client may close its side (attach) and still read the engine's answer.
    const server = createServer({ allowHalfOpen: true }, (client) => proxy.accept(client, upstream));
    const proxy = new DockerProxy(socketPath, dir, server, upstream);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return proxy;
  }

  /** Breaks every connection and stops listening (the socket is gone), as an engine whose API service stopped. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same socket after `close()`, as the API service started again. */
  async reopen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client, this.upstream));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, resolve);
    });
  }

  /** Holds back every later request that matches until `release()`. */
  hold(match: (r: ProxiedRequest) => boolean): void {
    this.holdMatch = match;
  }

  /** Lets every held request through and stops holding. */
  release(): void {
    this.holdMatch = undefined;
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Breaks every open connection, both ends, as a crashed or restarted engine would. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(client: Socket, upstream: string): void {
    const connection = ++this.connections;
    const engine = createConnection({ path: upstream, allowHalfOpen: true });
    for (const socket of [client, engine]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const requests = new RequestStream();
    // Forwarded piece by piece in order, so a held request also holds what the client sends after it.
    let forwarding = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      for (const piece of requests.feed(chunk)) {
        let hold = false;
        if (piece.request) {
          const request = { ...piece.request, connection };
          this.requests.push(request);
          hold = this.holdMatch?.(request) ?? false;
        }
        forwarding = forwarding.then(async () => {
          if (hold) await new Promise<void>((go) => this.held.push(go));
          if (!engine.destroyed) engine.write(piece.bytes);
        });
      }
    });
    client.once('end', () => void forwarding.then(() => engine.end()));
    engine.pipe(client);
    // Either side going away ends the other, as a direct connection would.
    client.once('close', () => engine.destroy());
    engine.once('close', () => client.destroy());
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
  }

  async stop(): Promise<void> {
    this.release();
    this.cut();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
