import { createConnection, createServer, Server, Socket } from 'node:net';
import { freePorts } from './ports';

/**
 * A TCP proxy on 127.0.0.1 in front of one target port, that a test can cut (every connection
 * reset, new ones refused at once) and mend: a daemon cut off from etcd while the test's own client
 * still reaches it. With `delayMs`, every chunk from the target reaches the client that much later
 * (in order): a slow network, so that work that is quick on loopback takes a known while.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;

  private constructor(
    readonly port: number,
    private readonly server: Server,
    private readonly delayMs: number,
  ) {}

  /** `127.0.0.1:<port>`, to hand to the process under test. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number, options: { delayMs?: number } = {}): Promise<TcpProxy> {
    const port = await freePorts(1);
    const server = createServer();
    const proxy = new TcpProxy(port, server, options.delayMs ?? 0);
    server.on('connection', (client) => proxy.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return proxy;
  }

  /** Resets every connection through it and every new one until `mend()`. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  mend(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.cutOff) return void client.resetAndDestroy();
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    if (this.delayMs === 0) upstream.pipe(client);
    else upstream.on('data', (chunk: Buffer) => setTimeout(() => client.destroyed || client.write(chunk), this.delayMs));
  }
}
