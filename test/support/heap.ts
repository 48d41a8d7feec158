import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait';

/** The env that preloads test/support/heap-probe into a daemon child, answering on `file`. */
export function heapProbeEnv(file: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `--require ${join(__dirname, 'heap-probe.js')}`, SR_HEAP_PROBE: file };
}

/** Asks the probed daemon for its memory after a full garbage collection. */
export async function readHeap(file: string): Promise<NodeJS.MemoryUsage> {
  if (existsSync(file)) unlinkSync(file);
  writeFileSync(`${file}.req`, '');
  await waitFor('the heap probe to answer', () => existsSync(file), 10_000, 50);
  return JSON.parse(readFileSync(file, 'utf8')) as NodeJS.MemoryUsage;
}
