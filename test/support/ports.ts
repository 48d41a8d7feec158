import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/** Whether nothing listens on 127.0.0.1:`port`. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` consecutive free ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await isFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free ports');
}

/**
 * A port nothing listens on at 127.0.0.1, as the kernel picks one for a listener on port 0.
 * Synchronous (a short child process) so that a constructor can hand it to the process it spawns.
 */
export function freePortSync(): number {
  const script =
    "const s = require('net').createServer().listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });";
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}
