import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeldEntries } from '../../src/mirror/held-entries';

const entry = (...keys: string[]) => new Map(keys.map((k) => [k, 'v']));

describe("the mirror's held entries", () => {
  it('know every held key, and forget a key once no container holds it', () => {
    const held = new HeldEntries();
    held.replace(new Map([['a', entry('/r/containers/a/name', '/r/hosts/h/web')]]));
    held.set('b', entry('/r/containers/b/name', '/r/hosts/h/web'));
    assert.equal(held.hasKey('/r/hosts/h/web'), true);
    held.delete('a');
    assert.equal(held.hasKey('/r/containers/a/name'), false);
    assert.equal(held.hasKey('/r/hosts/h/web'), true, 'b still holds the name key');
    held.set('b', entry('/r/containers/b/name'));
    assert.equal(held.hasKey('/r/hosts/h/web'), false, "b's new entry no longer has it");
    assert.deepEqual([...held.ids()], ['b']);
  });

  it('hold nothing for an empty entry, and nothing after clear or replace', () => {
    const held = new HeldEntries();
    held.set('a', entry('/r/containers/a/name'));
    held.set('a', new Map());
    assert.equal(held.size, 0);
    assert.equal(held.hasKey('/r/containers/a/name'), false);
    held.set('b', entry('/r/containers/b/name'));
    held.replace(new Map([['c', entry('/r/containers/c/name')]]));
    assert.equal(held.hasKey('/r/containers/b/name'), false);
    assert.equal(held.get('c')?.size, 1);
    held.clear();
    assert.equal(held.size, 0);
    assert.equal(held.hasKey('/r/containers/c/name'), false);
  });
});
