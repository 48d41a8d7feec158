import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OwnedService } from '../../src/registrator/backend';
import type { Service } from '../../src/registrator/service';
import { ServiceByServiceBackend } from '../../src/registrator/service-by-service';

function service(id: string, container: string): Service {
  return {
    id,
    name: 'web',
    port: 8080,
    ip: '10.0.0.5',
    tags: [],
    attrs: {},
    origin: {
      containerId: container,
      containerName: 'web',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'web',
    },
  };
}

/** A registry that records its calls and fails the register of `failOn`. */
class Recording extends ServiceByServiceBackend {
  readonly description = 'recording';
  readonly calls: string[] = [];
  readonly stored = new Map<string, Service>();
  failOn?: string;
  async ping(): Promise<void> {}
  async register(s: Service): Promise<void> {
    if (s.id === this.failOn) throw new Error('refused');
    this.calls.push(`register ${s.id}`);
    this.stored.set(s.id, s);
  }
  async deregister(s: Service): Promise<void> {
    this.calls.push(`deregister ${s.id}`);
    this.stored.delete(s.id);
  }
  async refresh(s: Service): Promise<void> {
    this.calls.push(`refresh ${s.id}`);
  }
  async owned(): Promise<OwnedService[]> {
    return [...this.stored.values()].map((s) => ({ service: s, intact: true }));
  }
  async close(): Promise<void> {}
}

describe('the service-by-service adapter', () => {
  it("carries a container's steps out one by one, in order, and books each as it is taken", async () => {
    const r = new Recording();
    const a = service('a', 'c1');
    const b = service('b', 'c1');
    await r.apply([
      { kind: 'register', service: a },
      { kind: 'register', service: b },
    ]);
    await r.apply([
      { kind: 'deregister', service: a },
      { kind: 'rewrite', service: b },
      { kind: 'refresh', service: b, previous: b },
    ]);
    assert.deepEqual(r.calls, ['register a', 'register b', 'deregister a', 'register b', 'refresh b']);
    assert.deepEqual([...r.book.servicesOf('c1').keys()], ['b']);
  });

  it('a failed step leaves the steps before it booked and the rest not taken', async () => {
    const r = new Recording();
    r.failOn = 'b';
    await assert.rejects(
      r.apply([
        { kind: 'register', service: service('a', 'c1') },
        { kind: 'register', service: service('b', 'c1') },
        { kind: 'register', service: service('c', 'c1') },
      ]),
      /refused/,
    );
    assert.deepEqual([...r.book.servicesOf('c1').keys()], ['a']);
    assert.deepEqual(r.calls, ['register a']);
  });

  it('load books what the registry says this host owns; clear removes each and forgets them', async () => {
    const r = new Recording();
    r.stored.set('a', service('a', 'c1'));
    r.stored.set('b', service('b', 'c2'));
    const { owned, unreadable } = await r.load();
    assert.equal(owned.length, 2);
    assert.deepEqual(unreadable, []);
    assert.deepEqual(r.book.containerIds(), ['c1', 'c2']);
    await r.clear();
    assert.deepEqual(r.calls, ['deregister a', 'deregister b']);
    assert.equal(r.book.size, 0);
  });

  it('by default takes every service, follows no Docker health, removes nothing dangling', async () => {
    const r = new Recording();
    assert.deepEqual(r.admit(service('a', 'c1')), { notes: [] });
    assert.equal(r.followsDockerHealth(service('a', 'c1')), false);
    assert.deepEqual(await r.removeDangling([]), []);
    assert.equal(r.exclusive, false);
    assert.equal(r.reader, null);
  });
});
