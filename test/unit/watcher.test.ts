import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import winston from 'winston';
import type { ContainerEvent } from '../../src/docker/events';
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
    const watcher = new DockerWatcher(docker, { onEvent: (e) => events.push(e), onSubscribed: async () => undefined }, winston.createLogger({ silent: true }));
    watcher.start();
    try {
      await waitFor('subscribed', () => watcher.subscribed, 2_000, 5);
      assert.deepEqual(asked, [
        {
          filters: {
            type: ['container', 'network'],
            event: ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update', 'connect', 'disconnect'],
          },
        },
      ]);
      const network = (action: string) => ({ Type: 'network', Action: action, Actor: { ID: NETWORK, Attributes: { container: ID, name: 'front', type: 'bridge' } } });
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
