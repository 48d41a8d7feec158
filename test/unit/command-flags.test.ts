import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, nodeFlagsOf } from '../support/daemon';

describe('the Node flags the command runs with', () => {
  it("are the ones its first line gives, and the image's entrypoint gives Node the same", () => {
    const flags = nodeFlagsOf(CLI);
    assert.deepEqual(flags, ['--max-semi-space-size=2']);
    const dockerfile = readFileSync(join(__dirname, '../../../Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
    assert.ok(entrypoint, 'the Dockerfile has an ENTRYPOINT in exec form');
    assert.deepEqual(JSON.parse(entrypoint[1]), ['node', ...flags, 'dist/bin/registrator.js']);
  });
});
