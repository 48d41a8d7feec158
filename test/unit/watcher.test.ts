import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import winston from 'winston';
import { ContainerEvent, EventLineSplitter, parseEventLine } from '../../src/docker/events';
import { DockerWatcher } from '../../src/docker/watcher';
import { waitFor } from '../support/wait';

const ID = 'c'.repeat(64);
const NETWORK = 'd'.repeat(64);

describe('DockerWatcher subscription', () => {
  it('asks Docker for container events and network connect/disconnect, and passes on the container a network event names', async () => {
    const asked: unknown[] = [];
    const stream = new PassThrough();
    const docker = { getEvents: async (options: unknown) => (asked.push(options), stream) } as unknown as Docker;
    const events: ContainerEvent[] = [];
    const watcher = new DockerWatcher(
      docker,
      { onEvent: (e) => events.push(e), onSubscribed: async () => undefined },
      winston.createLogger({ silent: true }),
    );
    watcher.start();
    try {
      await waitFor('subscribed', () => watcher.subscribed, 2_000, 5);
      assert.deepEqual(asked, [
        {
          filters: {
            type: ['container', 'network', 'service'],
            event: ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update', 'connect', 'disconnect'],
          },
        },
      ]);
      const network = (action: string) => ({
        Type: 'network',
        Action: action,
        Actor: { ID: NETWORK, Attributes: { container: ID, name: 'front', type: 'bridge' } },
      });
      stream.write(`${JSON.stringify(network('connect'))}\n${JSON.stringify(network('destroy'))}\n`);
      stream.write(`${JSON.stringify(network('disconnect'))}\n`);
      await waitFor('two events', () => events.length >= 2, 2_000, 5);
      assert.deepEqual(events, [
        { id: ID, action: 'connect' },
        { id: ID, action: 'disconnect' },
      ]);
    } finally {
      await watcher.stop();
    }
  });
});

describe('Docker event lines', () => {
  const ID = 'a'.repeat(64);
  const line = (action: string, id = ID) =>
    JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { name: 'ü-name' } }, status: action, id });

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
      assert.equal(parseEventLine(JSON.stringify({ Type: 'image', Action: 'pull', Actor: { ID } })).kind, 'ignored');
    });

    it('reports malformed lines instead of throwing', () => {
      assert.equal(parseEventLine('{"Type":"container","Act').kind, 'malformed');
      assert.equal(parseEventLine('null').kind, 'malformed');
      assert.equal(parseEventLine('"text"').kind, 'malformed');
      assert.equal(parseEventLine(JSON.stringify({ Type: 'container', Action: 'start' })).kind, 'malformed');
      assert.equal(parseEventLine(JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: '../etc' } })).kind, 'malformed');
    });
  });

  describe('parseEventLine: network events name the container to sync', () => {
    const NETWORK = 'b'.repeat(64);
    /** A network event as Docker 20.10 sends it. */
    const network = (action: unknown, attributes: Record<string, unknown> = { container: ID, name: 'front', type: 'bridge' }) =>
      JSON.stringify({
        Type: 'network',
        Action: action,
        Actor: { ID: NETWORK, Attributes: attributes },
        scope: 'local',
        time: 1796085429,
        timeNano: 1796085429736751000,
      });
    const cases: Array<[string, string, ReturnType<typeof parseEventLine>]> = [
      ['connect: the container in Actor.Attributes.container', network('connect'), { kind: 'event', event: { id: ID, action: 'connect' } }],
      [
        'disconnect: the container in Actor.Attributes.container',
        network('disconnect'),
        { kind: 'event', event: { id: ID, action: 'disconnect' } },
      ],
      [
        'a short container id',
        network('connect', { container: ID.slice(0, 12) }),
        { kind: 'event', event: { id: ID.slice(0, 12), action: 'connect' } },
      ],
      // Docker's filter lets these through with connect/disconnect (a network's destroy matches "destroy").
      [
        'destroy of a network: ignored',
        network('destroy', { name: 'front', type: 'bridge' }),
        { kind: 'ignored', reason: 'network action destroy' },
      ],
      [
        'create of a network: ignored',
        network('create', { name: 'front', type: 'bridge' }),
        { kind: 'ignored', reason: 'network action create' },
      ],
      // Podman names no container attribute: its Actor.ID is the container (docs/podman.md).
      [
        'connect without a container attribute: the Actor.ID',
        network('connect', { name: 'front' }),
        { kind: 'event', event: { id: NETWORK, action: 'connect' } },
      ],
      [
        'connect naming a container id that is not hex: malformed',
        network('connect', { container: '../etc' }),
        { kind: 'malformed', reason: 'network connect without a container id' },
      ],
      [
        'connect with a non-string container: malformed',
        network('disconnect', { container: 42 }),
        { kind: 'malformed', reason: 'network disconnect without a container id' },
      ],
      [
        'no Attributes at all: the Actor.ID',
        JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: NETWORK } }),
        { kind: 'event', event: { id: NETWORK, action: 'connect' } },
      ],
      [
        'no container attribute and an Actor.ID that is not hex: malformed',
        JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'front', Attributes: { name: 'front' } } }),
        { kind: 'malformed', reason: 'network connect without a container id' },
      ],
      ['no action: malformed', network(undefined), { kind: 'malformed', reason: 'network event without an action' }],
      // The network's own id is never taken for a container's.
      [
        'the network id is not the container',
        network('connect', { container: NETWORK }),
        { kind: 'event', event: { id: NETWORK, action: 'connect' } },
      ],
    ];
    for (const [name, input, expected] of cases) it(name, () => assert.deepEqual(parseEventLine(input), expected));

    it('a container event named connect is not a container action', () => {
      assert.deepEqual(parseEventLine(line('connect')), { kind: 'ignored', reason: 'action connect' });
    });
  });
});
