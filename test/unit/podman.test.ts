import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import winston from 'winston';
import { type ContainerState, networkAddress, parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { dockerEngine } from '../../src/docker/engine';
import { ContainerEvent, engineKindOf, eventFilters, parseEventLine } from '../../src/docker/events';
import { HealthChecks } from '../../src/docker/health-checks';
import { DockerWatcher } from '../../src/docker/watcher';
import { inspect } from '../fixtures/inspect';
import {
  DOCKER_EVENTS_HEADERS,
  PODMAN_EVENT_LINES as LINES,
  PODMAN_HEALTH_ID,
  PODMAN_ID,
  PODMAN_LIST_ENTRY_NO_NETWORK,
  PODMAN_OTHER_NETWORK_INSPECT,
  PODMAN_EVENTS_HEADERS,
  PODMAN_WEB_ID,
  PODMAN_WEB_INSPECT,
  podmanHealthInspect,
} from '../fixtures/podman';
import { advance, fakeClock, resetClock, settleUntil } from '../support/fake-clock';
import { waitFor } from '../support/wait';

const silent = winston.createLogger({ silent: true });

/** What the daemon's inspect hands HealthChecks for a container (`null`: gone). */
const stateOf = (id: string, info: ContainerInfo | null): ContainerState => ({ id, container: info && parseContainer(info) });

describe('Podman 4.3 event lines (recorded), read as Docker events', () => {
  const cases: Array<[keyof typeof LINES, ReturnType<typeof parseEventLine>]> = [
    ['start', { kind: 'event', event: { id: PODMAN_ID, action: 'start' } }],
    ['die', { kind: 'event', event: { id: PODMAN_ID, action: 'die' } }],
    // Docker says destroy; Podman's compatible API says remove.
    ['remove', { kind: 'event', event: { id: PODMAN_ID, action: 'destroy' } }],
    ['healthStatus', { kind: 'event', event: { id: PODMAN_HEALTH_ID, action: 'health_status' } }],
    // No container attribute: the Actor is the container.
    ['connect', { kind: 'event', event: { id: PODMAN_WEB_ID, action: 'connect' } }],
    ['disconnect', { kind: 'event', event: { id: PODMAN_WEB_ID, action: 'disconnect' } }],
    ['sync', { kind: 'ignored', reason: 'action sync' }],
    ['cleanup', { kind: 'ignored', reason: 'action cleanup' }],
    ['execDied', { kind: 'ignored', reason: 'action exec_died' }],
    ['pull', { kind: 'ignored', reason: 'type image' }],
  ];
  for (const [name, expected] of cases) it(name, () => assert.deepEqual(parseEventLine(LINES[name]), expected));

  it("libpod's own name died is die", () => {
    const died = LINES.die.replaceAll('"die"', '"died"');
    assert.deepEqual(parseEventLine(died), { kind: 'event', event: { id: PODMAN_ID, action: 'die' } });
  });
});

describe('engine kind and event filter', () => {
  it('tells Podman from Docker by the headers of the events answer', () => {
    assert.equal(engineKindOf(PODMAN_EVENTS_HEADERS), 'podman');
    assert.equal(engineKindOf(DOCKER_EVENTS_HEADERS), 'docker');
    assert.equal(engineKindOf({}), 'docker');
    assert.equal(engineKindOf(undefined), 'docker');
  });

  it('asks Podman for die and destroy by its own names (died, remove): it matches filters against those', () => {
    assert.deepEqual(eventFilters('podman'), {
      type: ['container', 'network', 'service'],
      event: ['start', 'died', 'remove', 'pause', 'unpause', 'rename', 'health_status', 'update', 'connect', 'disconnect'],
    });
    assert.deepEqual(eventFilters('docker').event.slice(0, 3), ['start', 'die', 'destroy']);
  });
});

describe('Podman inspect answers (recorded)', () => {
  it('a container without a health check has Health.Status "": no health check, active', () => {
    assert.equal(PODMAN_WEB_INSPECT.State.Health?.Status, '');
    const { state } = parseContainer(PODMAN_WEB_INSPECT);
    assert.equal(state.health, undefined);
    assert.equal(state.active, true);
  });

  it('a container with a health check is active only while healthy', () => {
    assert.equal(parseContainer(podmanHealthInspect('starting')).state.active, false);
    assert.equal(parseContainer(podmanHealthInspect('healthy')).state.active, true);
    assert.equal(parseContainer(podmanHealthInspect('unhealthy')).state.active, false);
  });

  it('HostIp "" (published on every address) reads as 0.0.0.0; other bindings and unpublished ports as they came', () => {
    const ports = Object.fromEntries(
      parseContainer(PODMAN_WEB_INSPECT)
        .ports.filter((p) => p.listed)
        .map((p) => [p.spec, p.bindings]),
    );
    assert.deepEqual(ports, {
      '53/udp': [{ hostIp: '0.0.0.0', hostPort: '18193' }],
      '80/tcp': [{ hostIp: '0.0.0.0', hostPort: '18191' }],
      '81/tcp': [{ hostIp: '127.0.0.1', hostPort: '18192' }],
      '9000/tcp': null,
    });
    // The recorded answer itself is not changed.
    assert.equal((PODMAN_WEB_INSPECT.NetworkSettings.Ports['80/tcp'] as Array<{ HostIp: string }>)[0].HostIp, '');
    const docker = parseContainer(inspect({ Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '28080' }] } }));
    assert.deepEqual(docker.ports[0].bindings, [{ hostIp: '0.0.0.0', hostPort: '28080' }]);
  });

  it('on a non-default network the top-level IPAddress is "": the address is the network\'s', () => {
    const other = parseContainer(PODMAN_OTHER_NETWORK_INSPECT);
    assert.equal(networkAddress(other, 'ipv4', 'by-name'), '10.89.0.2');
    assert.equal(networkAddress(other, 'ipv4', 'own-network-then-by-name'), '10.89.0.2');
    assert.equal(networkAddress(parseContainer(PODMAN_WEB_INSPECT), 'ipv4', 'by-name'), '10.88.0.7');
  });

  it('the list call with Networks null still gives the ids', async () => {
    const docker = { listContainers: async () => [PODMAN_LIST_ENTRY_NO_NETWORK] } as unknown as Docker;
    assert.deepEqual(await dockerEngine(docker, silent).list(), [PODMAN_LIST_ENTRY_NO_NETWORK.Id]);
  });
});

/** A fake engine: event streams answered with `headers`, inspects from `inspects` (404 when absent). */
function fakeEngine(headers: Record<string, string>, inspects: Map<string, ContainerInfo>) {
  const asked: unknown[] = [];
  const streams: PassThrough[] = [];
  const inspected: string[] = [];
  const docker = {
    getEvents: async (options: unknown) => {
      asked.push(options);
      const stream = Object.assign(new PassThrough(), { headers });
      streams.push(stream);
      return stream;
    },
    getContainer: (id: string) => ({
      inspect: async () => {
        inspected.push(id);
        const info = inspects.get(id);
        if (!info) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return info;
      },
    }),
  } as unknown as Docker;
  return { docker, asked, streams, inspected, inspects };
}

describe('DockerWatcher on Podman', () => {
  it('subscribes again in Podman’s words once the answer says Podman, and reads its stream, lines split anywhere', async () => {
    const engine = fakeEngine(PODMAN_EVENTS_HEADERS, new Map());
    const events: ContainerEvent[] = [];
    const watcher = new DockerWatcher(engine.docker, { onEvent: (e) => events.push(e), onSubscribed: async () => undefined }, silent);
    watcher.start();
    try {
      await waitFor('subscribed', () => watcher.subscribed, 2_000, 5);
      assert.deepEqual(engine.asked, [{ filters: eventFilters('docker') }, { filters: eventFilters('podman') }]);
      assert.equal(engine.streams[0].destroyed, true, 'the first stream is closed');
      const text = [LINES.start, LINES.sync, LINES.die, LINES.cleanup, LINES.remove, LINES.connect].join('\n') + '\n';
      for (let at = 0; at < text.length; at += 97) engine.streams[1].write(Buffer.from(text.slice(at, at + 97)));
      await waitFor('four events', () => events.length >= 4, 2_000, 5);
      assert.deepEqual(events, [
        { id: PODMAN_ID, action: 'start' },
        { id: PODMAN_ID, action: 'die' },
        { id: PODMAN_ID, action: 'destroy' },
        { id: PODMAN_WEB_ID, action: 'connect' },
      ]);
    } finally {
      await watcher.stop();
    }
  });

  it('polls the containers with a health check and hands on health_status when the status moved', async () => {
    const inspects = new Map([[PODMAN_HEALTH_ID, podmanHealthInspect('starting')]]);
    const engine = fakeEngine(PODMAN_EVENTS_HEADERS, inspects);
    const health = new HealthChecks();
    health.saw(stateOf(PODMAN_HEALTH_ID, podmanHealthInspect('starting')));
    // A container without a health check is not polled.
    health.saw(stateOf(PODMAN_WEB_ID, PODMAN_WEB_INSPECT));
    assert.deepEqual(health.entries(), [[PODMAN_HEALTH_ID, 'starting']]);
    const events: ContainerEvent[] = [];
    const watcher = new DockerWatcher(engine.docker, { onEvent: (e) => events.push(e), onSubscribed: async () => undefined }, silent, {
      health,
      healthPollMs: 20,
    });
    watcher.start();
    try {
      await waitFor('polled', () => engine.inspected.length >= 2, 2_000, 5);
      assert.deepEqual(events, [], 'no change, no event');
      // `podman healthcheck run` passed: the poll sees it, whatever the health_status event said.
      inspects.set(PODMAN_HEALTH_ID, podmanHealthInspect('healthy'));
      await waitFor('health_status', () => events.length >= 1, 2_000, 5);
      assert.deepEqual(events[0], { id: PODMAN_HEALTH_ID, action: 'health_status' });
      // The daemon's sync reads it again (through the engine, which notes what it read): no more events.
      health.saw(stateOf(PODMAN_HEALTH_ID, podmanHealthInspect('healthy')));
      const seen = events.length;
      const polls = engine.inspected.length;
      await waitFor('polled again', () => engine.inspected.length >= polls + 2, 2_000, 5);
      assert.equal(events.length, seen);
      // Gone (404): one more sync; once the daemon's inspect finds it gone, it is no longer polled.
      inspects.delete(PODMAN_HEALTH_ID);
      await waitFor('gone', () => events.length > seen, 2_000, 5);
      health.saw(stateOf(PODMAN_HEALTH_ID, null));
      assert.deepEqual(health.entries(), []);
    } finally {
      await watcher.stop();
    }
  });

  it("-podman-health-poll 0: no poll on Podman, no inspect but the daemon's own", async () => {
    const engine = fakeEngine(PODMAN_EVENTS_HEADERS, new Map([[PODMAN_HEALTH_ID, podmanHealthInspect('starting')]]));
    const containers = dockerEngine(engine.docker, silent, { healthPollMs: 0, initialBackoffMs: 10 });
    // The daemon's sync inspects the container (a health check, starting) before and while watching.
    assert.equal((await containers.inspect(PODMAN_HEALTH_ID)).container?.state.active, false);
    const events: ContainerEvent[] = [];
    const watch = containers.watch({ onEvent: (e) => events.push(e), onSubscribed: async () => undefined });
    fakeClock();
    watch.start();
    try {
      await settleUntil('subscribed', () => watch.subscribed);
      assert.deepEqual(engine.asked, [{ filters: eventFilters('docker') }, { filters: eventFilters('podman') }], 'on Podman');
      engine.inspects.set(PODMAN_HEALTH_ID, podmanHealthInspect('healthy'));
      await advance(60_000, 100);
      assert.deepEqual(engine.inspected, [PODMAN_HEALTH_ID], 'only the inspect the daemon asked for');
      assert.deepEqual(events, []);
    } finally {
      resetClock();
      await watch.stop();
    }
  });

  it('does not poll on Docker (its health_status events come after the status is stored)', async () => {
    const engine = fakeEngine(DOCKER_EVENTS_HEADERS, new Map([[PODMAN_HEALTH_ID, podmanHealthInspect('healthy')]]));
    const health = new HealthChecks();
    health.saw(stateOf(PODMAN_HEALTH_ID, podmanHealthInspect('starting')));
    const watcher = new DockerWatcher(engine.docker, { onEvent: () => undefined, onSubscribed: async () => undefined }, silent, {
      health,
      healthPollMs: 10,
    });
    fakeClock();
    watcher.start();
    try {
      await settleUntil('subscribed', () => watcher.subscribed);
      // A thousand poll intervals (10 ms): none inspects.
      await advance(10_000, 10);
      assert.deepEqual(engine.inspected, []);
      assert.deepEqual(engine.asked, [{ filters: eventFilters('docker') }]);
    } finally {
      resetClock();
      await watcher.stop();
    }
  });
});
