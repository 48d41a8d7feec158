import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventLineSplitter } from '../../src/docker/event-lines';
import { parseEventLine } from '../../src/docker/events';

const ID = 'a'.repeat(64);
const line = (action: string, id = ID) => JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { name: 'ü-name' } }, status: action, id });

describe('EventLineSplitter', () => {
  it('joins a line split across chunks', () => {
    const s = new EventLineSplitter();
    const whole = line('start') + '\n';
    assert.deepEqual(s.push(whole.slice(0, 10)), []);
    assert.deepEqual(s.push(whole.slice(10, 40)), []);
    assert.deepEqual(s.push(whole.slice(40)), [line('start')]);
  });

  it('splits several lines sharing one chunk, keeping the partial tail', () => {
    const s = new EventLineSplitter();
    const text = `${line('start')}\n${line('die')}\n${line('destroy')}`;
    assert.deepEqual(s.push(text), [line('start'), line('die')]);
    assert.deepEqual(s.push('\n'), [line('destroy')]);
  });

  it('reassembles a multi-byte UTF-8 character split between chunks', () => {
    const s = new EventLineSplitter();
    const bytes = Buffer.from(line('start') + '\n');
    const cut = bytes.indexOf(Buffer.from('ü')) + 1; // inside the two-byte ü
    assert.deepEqual(s.push(bytes.subarray(0, cut)), []);
    assert.deepEqual(s.push(bytes.subarray(cut)), [line('start')]);
  });

  it('feeds every possible split point of a three-line stream correctly', () => {
    const text = `${line('start')}\n${line('pause')}\n${line('die')}\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      const s = new EventLineSplitter();
      const got = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut)), ...s.end()];
      assert.deepEqual(got, [line('start'), line('pause'), line('die')], `cut at ${cut}`);
    }
  });

  it('returns an unterminated last line at end of stream, skips blank lines', () => {
    const s = new EventLineSplitter();
    assert.deepEqual(s.push(`\n\n${line('die')}`), []);
    assert.deepEqual(s.end(), [line('die')]);
    assert.deepEqual(s.end(), []);
  });
});

describe('parseEventLine', () => {
  it('reads handled actions', () => {
    for (const action of ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'update']) {
      assert.deepEqual(parseEventLine(line(action)), { kind: 'event', event: { id: ID, action } });
    }
  });

  it('reads "health_status: healthy" as health_status', () => {
    assert.deepEqual(parseEventLine(line('health_status: unhealthy')), { kind: 'event', event: { id: ID, action: 'health_status' } });
  });

  it('ignores exec_* and other actions, and non-container events', () => {
    assert.equal(parseEventLine(line('exec_start: sh -c true')).kind, 'ignored');
    assert.equal(parseEventLine(line('attach')).kind, 'ignored');
    assert.equal(parseEventLine(JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID } })).kind, 'ignored');
  });

  it('reports malformed lines instead of throwing', () => {
    assert.equal(parseEventLine('{"Type":"container","Act').kind, 'malformed');
    assert.equal(parseEventLine('null').kind, 'malformed');
    assert.equal(parseEventLine('"text"').kind, 'malformed');
    assert.equal(parseEventLine(JSON.stringify({ Type: 'container', Action: 'start' })).kind, 'malformed');
    assert.equal(parseEventLine(JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: '../etc' } })).kind, 'malformed');
  });
});
