/**
 * Summarises a V8 CPU profile (as `BENCH_CPU_PROF=<dir> npm run bench` leaves them) by self time:
 * per function and per package (node_modules/<pkg>, the product's own files, node internals).
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
  if (url.startsWith('node:')) return url;
  return url === '' ? '(vm)' : url;
}

function top(totals: Map<string, number>, rows: number, all: number): string[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([name, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${name}`);
}

function main(): void {
  const [file, rowsArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [rows]');
  const rows = Number(rowsArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const fn = `${frame.functionName || '(anonymous)'} ${packageOf(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg = packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  });
  console.log(`${(all / 1000).toFixed(0)} ms sampled\n\nby package (self time)`);
  console.log(top(byPackage, rows, all).join('\n'));
  console.log('\nby function (self time)');
  console.log(top(byFunction, rows, all).join('\n'));
}

main();
