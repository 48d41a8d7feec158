import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownContainerFacts } from '../../src/docker/engine-info';
import { defaultHostName } from '../../src/fleet/host-name';
import { STARTED_WITH_H, STARTED_WITHOUT_H } from '../fixtures/own-container';

describe('the default host name', () => {
  const shortId = STARTED_WITHOUT_H.Id.slice(0, 12);

  it('in a container started without -h (its hostname is its own short ID) is the engine name', () => {
    assert.equal(shortId, STARTED_WITHOUT_H.Config.Hostname);
    assert.deepEqual(defaultHostName(shortId, ownContainerFacts(STARTED_WITHOUT_H), 'docker-host-3'), {
      host: 'docker-host-3',
      source: 'engine-name',
    });
  });

  it('in a container started with -h is that hostname', () => {
    assert.deepEqual(defaultHostName('web-7', ownContainerFacts(STARTED_WITH_H), 'docker-host-3'), {
      host: 'web-7',
      source: 'os-hostname',
    });
  });

  it('outside a container (no container has the hostname as its ID) is the OS hostname', () => {
    assert.deepEqual(defaultHostName('vm', undefined, 'vm'), { host: 'vm', source: 'os-hostname' });
  });

  it('is the OS hostname when a container of that ID has another hostname (not the one the daemon runs in)', () => {
    assert.deepEqual(defaultHostName(shortId, ownContainerFacts(STARTED_WITH_H), 'docker-host-3'), {
      host: shortId,
      source: 'os-hostname',
    });
  });

  it('is the OS hostname when the engine gives no name', () => {
    assert.deepEqual(defaultHostName(shortId, ownContainerFacts(STARTED_WITHOUT_H), ''), { host: shortId, source: 'os-hostname' });
  });
});
