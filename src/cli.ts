#!/usr/bin/env -S node --max-semi-space-size=2
// The Node flag above caps V8's young generation: by default it grows to 64 MiB (twice 32 MiB
// semi-spaces) while the startup sync allocates, and is kept; at 2 MiB semi-spaces the daemon synced
// 1,000 containers with 15-20 % less RSS and no more CPU (docs/performance.md, "Memory"). V8 reads
// it only when it starts, so it is a flag of the command, not something this file could set. The
// image's entrypoint and the test and bench harnesses give Node the same flags.
// The `registrator` command. It first turns on Node's module compile cache (Node >= 22.1; elsewhere
// there is no such function and nothing happens): compiled code of the project and its packages is
// kept on disk, under NODE_COMPILE_CACHE or else <os tmpdir>/node-compile-cache, and reused by the
// next start; NODE_DISABLE_COMPILE_CACHE=1 turns it off (docs/configuration.md#startup). The cache
// only covers modules compiled after it is on, and this file's imports would all run before its
// first statement, so the rest of the command is required below, after it.
import * as nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// eslint-disable-next-line @typescript-eslint/no-require-imports
void (require('./main') as typeof import('./main')).main(process.argv.slice(2));
