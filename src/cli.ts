#!/usr/bin/env node
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
