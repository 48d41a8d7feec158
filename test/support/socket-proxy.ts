import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One HTTP request seen on its way to Docker. */
export interface ProxiedRequest {
  method: string;
  path: string;
}

/**
 * A unix-socket proxy in front of a Docker socket that sees each HTTP request head on its way in,
 * so a test can break the connections (a lost event stream) or hold back chosen requests until it
 * has changed Docker under the daemon's feet (a container removed between its event and the inspect).
 */
export class SocketProxy {
  readonly socket: string;
  readonly requests: ProxiedRequest[] = [];
  private readonly dir: string;
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private holdMatch?: (r: ProxiedRequest) => boolean;
  private held: Array<() => void> = [];

  private constructor(private readonly upstream: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'sr-proxy-'));
    this.socket = join(this.dir, 'docker.sock');
    this.server = createServer((client) => this.accept(client));
  }

  static async start(upstream: string): Promise<SocketProxy> {
    const proxy = new SocketProxy(upstream);
    await new Promise<void>((resolve) => proxy.server.listen(proxy.socket, resolve));
    return proxy;
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

  /** Breaks every open connection (both ends), as a restarted or crashed engine would. */
  cut(): void {
    for (const [client, server] of this.pairs) {
      client.destroy();
      server.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.release();
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(client: Socket): void {
    const server = createConnection(this.upstream);
    const pair: [Socket, Socket] = [client, server];
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      server.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
    server.pipe(client);

    // Client -> Docker: forward request by request, so one can be held without reordering the rest.
    let buffer = Buffer.alloc(0);
    let forwarding = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end + 4).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const message = buffer.subarray(0, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        const [method, path] = head.split(' ', 2);
        const request = { method, path };
        this.requests.push(request);
        const holdIt = this.holdMatch?.(request) ?? false;
        forwarding = forwarding.then(async () => {
          if (holdIt) await new Promise<void>((go) => this.held.push(go));
          if (!server.destroyed) server.write(message);
        });
      }
    });
  }
}
