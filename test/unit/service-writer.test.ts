import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ContainerState, parseContainer } from '../../src/docker/container';
import { ServiceWriter, type ServiceWriterOptions } from '../../src/registrator/service-writer';
import { ID, inspect } from '../fixtures/inspect';
import { silentLogger } from '../support/log';
import { MemoryRegistry } from '../support/memory-registry';

const MODEL = { host: 'h1', hostIp: '10.9.8.7', internal: false, explicit: false, tags: '', useIpFromLabel: '' };
const SERVICE_ID = 'h1:fx:80';

function writer(deregister: ServiceWriterOptions['deregister']): { registry: MemoryRegistry; w: ServiceWriter } {
  const registry = new MemoryRegistry();
  return { registry, w: new ServiceWriter(registry, { model: MODEL, deregister }, silentLogger, 'writer.memory') };
}

/** The container with one published port, in the state `state` gives (`null`: gone). */
function container(state: NonNullable<Parameters<typeof inspect>[0]>['State'] | null): ContainerState {
  if (state === null) return { id: ID, container: null };
  const info = inspect({ ExposedPorts: { '80/tcp': {} }, Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] }, State: state });
  return { id: ID, container: parseContainer(info) };
}

const exited = (code: number) => ({ Status: 'exited', Running: false, ExitCode: code });

/**
 * `-deregister` (docs/registrator.md, "Deregistration"): which containers keep their services once
 * they stop being active. A restarting container is not running (Docker says `Running` while it waits):
 * under on-success it is kept when its last exit was an error, as a stopped one is.
 */
describe('ServiceWriter: what -deregister keeps', () => {
  const cases: Array<[string, ServiceWriterOptions['deregister'], Parameters<typeof container>[0], 'kept' | 'deregistered']> = [
    ['always: exited with an error', 'always', exited(1), 'deregistered'],
    ['on-success: exited with an error', 'on-success', exited(1), 'kept'],
    ['on-success: exited with 128', 'on-success', exited(128), 'kept'],
    ['on-success: exited 0', 'on-success', exited(0), 'deregistered'],
    ['on-success: killed by a signal (137)', 'on-success', exited(137), 'deregistered'],
    ['on-success: restarting after an error', 'on-success', { Status: 'restarting', Running: true, Restarting: true, ExitCode: 1 }, 'kept'],
    [
      'on-success: restarting after exit 0',
      'on-success',
      { Status: 'restarting', Running: true, Restarting: true, ExitCode: 0 },
      'deregistered',
    ],
    ['always: restarting after an error', 'always', { Status: 'restarting', Running: true, Restarting: true, ExitCode: 1 }, 'deregistered'],
    ['on-success: gone', 'on-success', null, 'deregistered'],
  ];
  for (const [name, deregister, state, expected] of cases) {
    it(name, async () => {
      const { registry, w } = writer(deregister);
      await w.loadHeld();
      await w.sync(container({}));
      assert.deepEqual([...registry.entries.keys()], [SERVICE_ID], 'registered while running');
      const plan = w.plan(container(state));
      assert.equal(plan.kept, expected === 'kept');
      assert.deepEqual(
        plan.actions.map((a) => `${a.kind} ${a.service.id}`),
        expected === 'kept' ? [] : [`deregister ${SERVICE_ID}`],
      );
      await w.sync(container(state));
      assert.deepEqual([...registry.entries.keys()], expected === 'kept' ? [SERVICE_ID] : []);
    });
  }

  it('a kept container running again is in step: nothing written', async () => {
    const { registry, w } = writer('on-success');
    await w.loadHeld();
    await w.sync(container({}));
    await w.sync(container(exited(1)));
    registry.calls.length = 0;
    assert.deepEqual(w.plan(container({})).actions, []);
    await w.sync(container({}));
    assert.deepEqual(registry.calls, []);
    assert.deepEqual([...registry.entries.keys()], [SERVICE_ID]);
  });
});
