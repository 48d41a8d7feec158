/**
 * Summarises a V8 CPU profile (as `BENCH_CPU_PROF=<dir> npm run bench` leaves them) by self time:
 * per function and per package (node_modules/<pkg>, the product's own files, node internals). A
 * frame in the bundle (dist/bin/main.js) is traced back through its source map to the file it came from.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [rows]
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  const inModules = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.includes('/dist/src/')) return `product ${url.slice(url.indexOf('/dist/src/') + 10)}`;
  // The product's own TypeScript, as the bundle's source map names it.
  const source = /\/src\/(.+)\.ts$/.exec(url);
  if (source) return `product ${source[1]}.js`;
  if (url.startsWith('node:')) return url;
  return url === '' ? '(vm)' : url;
}

function top(totals: Map<string, number>, rows: number, all: number): string[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([name, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${name}`);
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** The source map next to the bundle (`dist/bin/<file>.map`), if there is one. */
function sourceMapOf(url: string): SourceMap | undefined {
  // Only the bundle: packages' own maps (grpc-js ships them) would name their TypeScript sources instead.
  if (!url.includes('/dist/bin/')) return undefined;
  if (!sourceMaps.has(url)) {
    const file = url.startsWith('file://') ? fileURLToPath(url) : url;
    const map =
      url.endsWith('.js') && existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) : undefined;
    sourceMaps.set(url, map);
  }
  return sourceMaps.get(url);
}

/** Where a frame's code was written: through the source map for a bundle, else as it is. */
function original(frame: ProfileNode['callFrame']): { url: string; lineNumber: number } {
  const entry = sourceMapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry || !('originalSource' in entry)) return frame;
  // esbuild names sources relative to the map (`../../src/main.ts`, `../../node_modules/etcd3/...`).
  return {
    url: new URL(entry.originalSource, frame.url.startsWith('file://') ? frame.url : `file://${frame.url}`).href,
    lineNumber: entry.originalLine,
  };
}

/** Self time of a profile (its JSON text), by package and by function, `rows` of each. */
export function summariseProfile(text: string, rows = 25): string {
  const profile = JSON.parse(text) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const callFrame = byId.get(id)!.callFrame;
    const frame = { ...callFrame, ...original(callFrame) };
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const fn = `${frame.functionName || '(anonymous)'} ${packageOf(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg = packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  });
  return [
    `${(all / 1000).toFixed(0)} ms sampled\n\nby package (self time)`,
    ...top(byPackage, rows, all),
    '\nby function (self time)',
    ...top(byFunction, rows, all),
  ].join('\n');
}

if (require.main === module) {
  const [file, rowsArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [rows]');
  console.log(summariseProfile(readFileSync(file, 'utf8'), Number(rowsArg ?? 25)));
}
