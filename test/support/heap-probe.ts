/**
 * Preloaded into a daemon under test (`NODE_OPTIONS=--require .../heap-probe.js`, with
 * SR_HEAP_PROBE=<file>): when `<file>.req` appears, it collects garbage and writes
 * process.memoryUsage() to `<file>`. Reads the daemon's heap without touching the product.
 */
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const file = process.env.SR_HEAP_PROBE;
if (file) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const timer = setInterval(() => {
    if (!existsSync(`${file}.req`)) return;
    unlinkSync(`${file}.req`);
    gc();
    gc();
    writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
    renameSync(`${file}.tmp`, file);
  }, 100);
  timer.unref();
}
