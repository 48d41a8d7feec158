import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MirrorLayout } from '../../src/mirror/keys';
import type { DiffReport } from '../../src/ops/diff';
import { formatDiff } from '../../src/ops/diff-format';
import type { LsReport } from '../../src/ops/ls';
import { formatLs } from '../../src/ops/ls-format';
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

describe('text output', () => {
  it('ls: a table per writer; not covered registries named', () => {
    const report: LsReport = {
      host: 'h1',
      claim: {
        key: '/_registrator/hosts/h1',
        record: {
          host: 'h1',
          engine: { id: 'AKFM:V45N', name: 'vm' },
          hostname: 'vm',
          pid: 42,
          version: '0.1.0',
          since: '2026-12-07T07:00:00Z',
        },
        lease: '7587',
      },
      mirror: {
        prefix: '/registry/',
        containers: [
          listContainer(
            ID,
            new Map(
              Object.entries({
                [`${C}name`]: 'web',
                [`${C}image`]: 'img',
                [`${C}state`]: 'running',
                [`${C}network/ip`]: '',
                [`${C}network/ports/80-tcp/extPort`]: '8080',
                [`${C}network/ports/80-tcp/extIp`]: '0.0.0.0',
              }),
            ),
            layout,
          ),
        ],
      },
      registries: [
        {
          registry: 'etcd:///services',
          covered: true,
          services: [
            {
              id: 'h1:web:80',
              name: 'web',
              ip: '10.0.0.5',
              port: 8080,
              tags: [],
              containerId: ID,
              containerName: 'web',
              intact: false,
              takenOver: false,
            },
          ],
        },
        { registry: 'consul://', covered: false, reason: 'not covered: why' },
      ],
    };
    assert.equal(
      formatLs(report),
      [
        'host h1',
        'claim /_registrator/hosts/h1: engine vm (ID AKFM:V45N), daemon pid 42 on vm since 2026-12-07T07:00:00Z; lease 7587',
        'mirror /registry/: 1 container',
        '  ID            NAME  IMAGE  STATE    IP  PORTS',
        '  dddddddddddd  web   img    running  -   80/tcp->0.0.0.0:8080',
        'etcd:///services: 1 service',
        '  SERVICE    NAME  ADDRESS        CONTAINER           STATUS',
        '  h1:web:80  web   10.0.0.5:8080  web (dddddddddddd)  not as written',
        'consul://: not covered: why',
      ].join('\n'),
    );
  });

  it('diff: services, then +, ~ and - keys; a summary line', () => {
    const report: DiffReport = {
      host: 'h1',
      changes: 3,
      writers: [
        { writer: 'mirror', covered: true, put: [], delete: [], warnings: [] },
        {
          writer: 'etcd:///services',
          covered: true,
          services: [{ id: 'h1:web:80', name: 'web', containerId: ID, change: 'update' }],
          put: [
            { key: '/a', value: '1', previous: null },
            { key: '/b', value: '2', previous: '1' },
          ],
          delete: [{ key: '/c', previous: '3' }],
          warnings: ['web port 81/tcp: why'],
        },
      ],
    };
    assert.equal(
      formatDiff(report),
      [
        'mirror: nothing to change',
        'etcd:///services:',
        '  update h1:web:80 (web, container dddddddddddd)',
        '  + /a = 1',
        '  ~ /b = 2 (was 1)',
        '  - /c = 3',
        'etcd:///services: skipped: web port 81/tcp: why',
        'host h1: 2 keys to put, 1 to delete',
      ].join('\n'),
    );
    assert.equal(formatDiff({ host: 'h1', changes: 0, writers: [] }), 'host h1: nothing to change');
  });
});
