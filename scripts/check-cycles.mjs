// Fails when src/ has an import cycle between files, or between folders (a top-level folder of
// src/ and each file directly in src/ count as one node each). The import graph is madge's.
import madge from 'madge';
import { dirname } from 'node:path';

const graph = (await madge('src', { fileExtensions: ['ts'], tsConfig: 'tsconfig.json' })).obj();

/** Cycles of a directed graph (each once, as found by a depth-first walk). */
function cycles(edges) {
  const found = [];
  const state = new Map(); // node -> 'open' | 'done'
  const path = [];
  const walk = (node) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) walk(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) walk(node);
  return found;
}

const files = new Map(Object.entries(graph).map(([file, deps]) => [file, new Set(deps)]));
const folderOf = (file) => (dirname(file) === '.' ? file : file.split('/')[0] + '/');
const folders = new Map();
for (const [file, deps] of files) {
  const from = folderOf(file);
  if (!folders.has(from)) folders.set(from, new Set());
  for (const dep of deps) if (folderOf(dep) !== from) folders.get(from).add(folderOf(dep));
}

const problems = [
  ...cycles(files).map((c) => `file cycle: ${c.join(' > ')}`),
  ...cycles(folders).map((c) => `folder cycle: ${c.join(' > ')}`),
];
for (const line of problems) console.error(line);
if (problems.length > 0) process.exit(1);
console.log(`no import cycle between ${files.size} files or ${folders.size} folders of src/`);
