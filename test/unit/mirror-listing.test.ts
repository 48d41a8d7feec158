import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MirrorLayout } from '../../src/mirror/keys';
import { listContainer } from '../../src/ops/mirror-listing';

const ID = 'd'.repeat(64);
const C = `/registry/containers/${ID}/`;
const layout = new MirrorLayout('registry');

describe('listContainer', () => {
  it("reads an entry's keys back into fields, ports in port order", () => {
    const keys = new Map(
      Object.entries({
        [`${C}id`]: ID,
        [`${C}name`]: 'web',
        [`${C}image`]: 'test/busybox:1',
        [`${C}state`]: 'running',
        [`${C}created`]: '2026-11-21T10:14:15Z',
        [`${C}host`]: 'h1',
        [`${C}network/ip`]: '172.17.0.2',
        [`${C}labels/role`]: 'front',
        [`${C}network/ports/9000-tcp/intPort`]: '9000',
        [`${C}network/ports/9000-tcp/extPort`]: '',
        [`${C}network/ports/9000-tcp/extIp`]: '',
        [`${C}network/ports/9000-tcp/proto`]: 'tcp',
        [`${C}network/ports/80-tcp/intPort`]: '80',
        [`${C}network/ports/80-tcp/extPort`]: '32768',
        [`${C}network/ports/80-tcp/extIp`]: '127.0.0.1',
        [`${C}network/ports/80-tcp/proto`]: 'tcp',
        '/registry/hosts/h1/web': ID,
        [`/registry/labels/role/${ID}`]: 'front',
      }),
    );
    const listed = listContainer(ID, keys, layout);
    assert.deepEqual(
      { ...listed, keys: undefined },
      {
        id: ID,
        name: 'web',
        image: 'test/busybox:1',
        state: 'running',
        created: '2026-11-21T10:14:15Z',
        ip: '172.17.0.2',
        labels: { role: 'front' },
        ports: [
          { port: '80', proto: 'tcp', extPort: '32768', extIp: '127.0.0.1' },
          { port: '9000', proto: 'tcp', extPort: '', extIp: '' },
        ],
        keys: undefined,
      },
    );
    assert.deepEqual(Object.keys(listed.keys), [...keys.keys()].sort());
  });

  it('an id only listed under hosts/: its name from that key, the rest null', () => {
    assert.deepEqual(listContainer(ID, new Map([['/registry/hosts/h1/old', ID]]), layout), {
      id: ID,
      name: 'old',
      image: null,
      state: null,
      created: null,
      ip: null,
      labels: {},
      ports: [],
      keys: { '/registry/hosts/h1/old': ID },
    });
  });
});
