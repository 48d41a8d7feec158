/**
 * Preloaded into the daemon child by the benchmark (`node --expose-gc --require`), never part of
 * the product: when the file `<BENCH_PROBE_DIR>/request` appears, it collects garbage and writes
 * process.memoryUsage() to `<BENCH_PROBE_DIR>/memory.json`.
 */
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_PROBE_DIR;
if (dir) {
  const request = join(dir, 'request');
  setInterval(() => {
    if (!existsSync(request)) return;
    unlinkSync(request);
    (globalThis as { gc?: () => void }).gc?.();
    const out = join(dir, 'memory.json');
    writeFileSync(`${out}.tmp`, JSON.stringify(process.memoryUsage()));
    renameSync(`${out}.tmp`, out);
  }, 50).unref();
}
