/**
 * The mirror's label keys read back, for any label set (docs/mirror.md, "Key layout"): label names are
 * used as is, `/` included, so `labels/<label>/<Id>` is read from the right, the ID being its last segment.
 * The hand-picked cases are in mirror-keys.test.ts and mirror-keys-hostile.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseContainer } from '../../src/docker/container';
import { MirrorLayout, wantedEntry } from '../../src/mirror/keys';
import { anyText, hostName, inspectInput, serviceKey, toInspect } from '../support/inspect-arbitraries';

/** Runs in `npm test`: fixed, so a run's cost is known. */
const RUNS = 500;

const labelName = fc.oneof(
  { weight: 4, arbitrary: anyText(16) },
  { weight: 1, arbitrary: serviceKey },
  { weight: 1, arbitrary: fc.constantFrom('com.docker.compose.service', 'a/b', '/', '', '.', '..', '__proto__', 'x/'.repeat(30)) },
);

const sorted = (pairs: Iterable<[string, string]>) => [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('mirror layout, properties (fast-check)', () => {
  it(`containers/<Id>/labels/<label> and labels/<label>/<Id> read back to every label and its value (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(inspectInput(labelName), hostName, fc.constantFrom('registry', 'team/registry'), (input, host, dir) => {
        const layout = new MirrorLayout(dir);
        const container = toInspect(input);
        const wanted = wantedEntry(parseContainer(container), host, layout);
        // An entry past one transaction's limit is not written at all (a reader never sees half a container).
        if (!wanted.entry) return assert.match(wanted.skipped, /^its entry is too large for one etcd transaction/);
        const own = `${layout.container(input.id)}labels/`;
        const fromEntry: Array<[string, string]> = [];
        const fromIndex: Array<[string, string]> = [];
        for (const [key, value] of wanted.entry) {
          if (key.startsWith(own)) fromEntry.push([key.slice(own.length), value]);
          else if (key.startsWith(layout.labelsPrefix)) {
            const rest = key.slice(layout.labelsPrefix.length);
            const cut = rest.lastIndexOf('/');
            assert.equal(rest.slice(cut + 1), input.id, key);
            fromIndex.push([rest.slice(0, cut), value]);
          }
        }
        const labels = sorted(Object.entries(input.labels));
        assert.deepEqual(sorted(fromEntry), labels);
        assert.deepEqual(sorted(fromIndex), labels);
      }),
      { numRuns: RUNS },
    );
  });
});
