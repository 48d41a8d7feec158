import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import winston from 'winston';
import { type ContainerState, parseContainer } from '../../src/docker/container';
import type { ContainerInfo, SwarmServiceInfo } from '../../src/docker/container-facts';
import { ServiceWriter } from '../../src/registrator/service-writer';
import { inspect } from '../fixtures/inspect';
import { MemoryRegistry } from '../support/memory-registry';

/**
 * A port a Swarm service publishes through the routing mesh is registered once per node, whichever of
 * the service's tasks on the node gives it (docs/registrator.md, "Swarm services").
 */

const SERVICE: SwarmServiceInfo = {
  ID: 'k3x9q8w7e6r5t4y3u2i1o0p9a',
  Spec: { Name: 'web' },
  Endpoint: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 28080, PublishMode: 'ingress' }] },
};

/** Task `n` of Swarm service web (container id `n` repeated), running or gone. */
function task(n: string, running: boolean): ContainerState {
  const id = n.repeat(64);
  if (!running) return { id, container: null };
  const info: ContainerInfo = {
    ...inspect({
      Id: id,
      Name: `/web.${n}.task${n}`,
      NetworkMode: 'default',
      Networks: { ingress: { IPAddress: `10.0.0.${n}` } },
      Labels: { 'com.docker.swarm.service.id': SERVICE.ID, 'com.docker.swarm.service.name': 'web' },
    }),
    swarmService: SERVICE,
  };
  return { id, container: parseContainer(info) };
}

function writer(registry: MemoryRegistry): ServiceWriter {
  const model = { host: 'h1', hostIp: '10.9.8.7', internal: false, explicit: false, tags: '', useIpFromLabel: '' };
  return new ServiceWriter(registry, { model, deregister: 'always' }, winston.createLogger({ silent: true }), 'writer.memory');
}

const ID = 'h1:swarm:web:28080';

describe('Swarm routing-mesh ports: one registration per node and published port', () => {
  it('the first task registers it, the others stand by; it passes from task to task and leaves with the last', async () => {
    const registry = new MemoryRegistry();
    const w = writer(registry);
    await w.loadHeld();
    await w.sync(task('1', true));
    await w.sync(task('2', true));
    await w.sync(task('3', true));
    assert.deepEqual(registry.calls, [`register ${ID} for 1`]);
    assert.equal(registry.entries.get(ID)?.ip, '10.9.8.7');
    assert.equal(registry.entries.get(ID)?.port, 28080);

    // Scale down: the holder goes first, a task standing by takes it over in the same step.
    await w.sync(task('1', false));
    assert.equal(registry.entries.get(ID)?.origin.containerId, '2'.repeat(64));
    await w.sync(task('3', false));
    assert.equal(registry.entries.get(ID)?.origin.containerId, '2'.repeat(64));
    await w.sync(task('2', false));
    assert.equal(registry.entries.size, 0);
    assert.deepEqual([...w.heldIds()], []);
  });

  it('tasks that come and go at once (service rm, scale) leave nothing behind and never register it twice', async () => {
    const registry = new MemoryRegistry();
    const w = writer(registry);
    await w.loadHeld();
    await Promise.all(['1', '2', '3', '4'].map((n) => w.sync(task(n, true))));
    assert.equal(registry.calls.filter((c) => c.startsWith('register')).length, 1, registry.calls.join('\n'));
    await Promise.all(['1', '2', '3', '4'].map((n) => w.sync(task(n, false))));
    assert.equal(registry.entries.size, 0, registry.calls.join('\n'));
    assert.deepEqual([...w.heldIds()], []);
  });

  it('after a restart, the registration of a task that died meanwhile passes to a live one', async () => {
    const registry = new MemoryRegistry();
    const first = writer(registry);
    await first.loadHeld();
    await first.sync(task('1', true));
    // The daemon restarts; task 1 died meanwhile, task 2 runs. Reconciliation syncs them in either order.
    for (const order of [
      ['2', '1'],
      ['1', '2'],
    ]) {
      const w = writer(registry);
      await w.loadHeld();
      for (const n of order) await w.sync(task(n, n === '2'));
      assert.equal(registry.entries.get(ID)?.origin.containerId, '2'.repeat(64), `order ${order.join(',')}`);
      // Back to task 1 holding it for the next round.
      await w.sync(task('2', false));
      await w.sync(task('1', true));
    }
  });
});
