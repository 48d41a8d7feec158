/**
 * Preloaded (`node --require dist/bench/module-loads.js ...`) by `bench/startup.ts`, never part of
 * the product: times every module the process requires and, when the process exits, writes to
 * SR_MODULE_LOADS (a file) the time spent loading each package, inclusive (the package's own files
 * and what they require in turn) and exclusive (less the other packages it requires), as JSON.
 */
import { writeFileSync } from 'node:fs';
import Module from 'node:module';

interface Load {
  /** Package the module belongs to: `node_modules/<pkg>`, `product`, `node:<builtin>`, or the file. */
  owner: string;
  start: number;
  /** Time spent in nested loads of other owners. */
  nested: number;
}

const out = process.env.SR_MODULE_LOADS;

function ownerOf(filename: string): string {
  const inModules = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(filename);
  if (inModules) return inModules[1];
  if (!filename.includes('/')) return `node:${filename.replace(/^node:/, '')}`;
  return filename.includes('/dist/src/') ? 'product' : filename;
}

if (out) {
  const inclusive = new Map<string, number>();
  const exclusive = new Map<string, number>();
  const files = new Map<string, number>();
  const stack: Load[] = [];
  const internal = Module as unknown as {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
    _resolveFilename: (request: string, parent: unknown, isMain: boolean) => string;
    _cache: Record<string, unknown>;
  };
  const load = internal._load;
  internal._load = function timedLoad(request: string, parent: unknown, isMain: boolean): unknown {
    let filename: string;
    try {
      filename = internal._resolveFilename(request, parent, isMain);
    } catch {
      return load.call(this, request, parent, isMain);
    }
    // Already loaded: costs nothing worth counting.
    if (internal._cache[filename] || filename.startsWith('node:') || !filename.includes('/'))
      return load.call(this, request, parent, isMain);
    const owner = ownerOf(filename);
    const parentOwner = stack.length > 0 ? stack[stack.length - 1].owner : undefined;
    const frame: Load = { owner, start: performance.now(), nested: 0 };
    stack.push(frame);
    try {
      return load.call(this, request, parent, isMain);
    } finally {
      stack.pop();
      const took = performance.now() - frame.start;
      files.set(owner, (files.get(owner) ?? 0) + 1);
      exclusive.set(owner, (exclusive.get(owner) ?? 0) + took - frame.nested);
      if (stack.length > 0) stack[stack.length - 1].nested += took;
      // Inclusive time counts a package's entry from another owner, not each of its files within it.
      if (parentOwner !== owner) inclusive.set(owner, (inclusive.get(owner) ?? 0) + took);
    }
  };
  process.on('exit', () => {
    const rows = [...inclusive.keys()].map((owner) => ({
      owner,
      files: files.get(owner) ?? 0,
      inclusiveMs: inclusive.get(owner) ?? 0,
      exclusiveMs: exclusive.get(owner) ?? 0,
    }));
    writeFileSync(out, JSON.stringify(rows));
  });
}
