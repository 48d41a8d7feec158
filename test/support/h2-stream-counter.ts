import { createConnection, createServer, Server, Socket } from 'node:net';

/** What an HTTP/2 client sends first, before any frame (RFC 9113, 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** Every frame starts with 9 bytes: length (24 bits), type, flags, stream id (31 bits). */
const FRAME_HEADER = 9;
const HEADERS = 0x1;

/**
 * Follows the frames one HTTP/2 client writes on one connection and reports each stream it opens:
 * a HEADERS frame on an odd stream id above every id seen so far (a client's streams are odd and
 * rise; trailers or CONTINUATION frames on an open stream are not new ones). Bytes are only read.
 */
class ClientFrames {
  private buffer: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  /** Set when the client turns out not to speak HTTP/2: its bytes are then passed over, not counted. */
  private ignored = false;
  private highest = 0;

  constructor(private readonly onStream: () => void) {}

  feed(chunk: Buffer): void {
    if (this.ignored) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.prefaceSeen) {
      if (this.buffer.length < PREFACE.length) return;
      if (!this.buffer.subarray(0, PREFACE.length).equals(PREFACE)) {
        this.ignored = true;
        this.buffer = Buffer.alloc(0);
        return;
      }
      this.prefaceSeen = true;
      this.buffer = this.buffer.subarray(PREFACE.length);
    }
    while (this.buffer.length >= FRAME_HEADER) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < FRAME_HEADER + length) return;
      const type = this.buffer[3];
      const stream = this.buffer.readUInt32BE(5) & 0x7fffffff;
      if (type === HEADERS && stream % 2 === 1 && stream > this.highest) {
        this.highest = stream;
        this.onStream();
      }
      this.buffer = this.buffer.subarray(FRAME_HEADER + length);
    }
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of an HTTP/2 server (etcd's gRPC port) that counts the requests
 * clients send through it: every new stream a client opens is one gRPC call (a unary call, or one
 * watch or keep-alive stream however many messages it carries). Each is kept with the wall time
 * it was seen, so a count can be taken over any span afterwards. Bytes pass untouched both ways.
 */
export class Http2StreamCounter {
  /** Wall time (ms) of every stream a client opened, in order. */
  readonly streams: number[] = [];
  private readonly sockets = new Set<Socket>();
  private connectionCount = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {
    server.on('connection', (client: Socket) => this.accept(client));
  }

  /** Listens on a free 127.0.0.1 port and forwards every connection to `upstream` (`host:port`). */
  static async start(upstream: string): Promise<Http2StreamCounter> {
    const colon = upstream.lastIndexOf(':');
    const server = createServer();
    const counter = new Http2StreamCounter(server, upstream.slice(0, colon), Number(upstream.slice(colon + 1)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return counter;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** `127.0.0.1:<port>`, for a client's endpoint list. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Client connections accepted so far (a client that reconnects opens another). */
  get connections(): number {
    return this.connectionCount;
  }

  /** Streams opened at or after `from` and at or before `to` (wall ms). */
  between(from: number, to = Infinity): number {
    return this.streams.filter((t) => t >= from && t <= to).length;
  }

  private accept(client: Socket): void {
    this.connectionCount++;
    const server = createConnection({ host: this.upstreamHost, port: this.upstreamPort });
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const frames = new ClientFrames(() => this.streams.push(Date.now()));
    client.on('data', (chunk: Buffer) => frames.feed(chunk));
    client.pipe(server);
    server.pipe(client);
    // Either side going away ends the other, as a direct connection would.
    client.once('close', () => server.destroy());
    server.once('close', () => client.destroy());
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  }

  /** Breaks every connection and stops listening. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
