import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MirrorLayout } from '../../src/mirror/keys';
import type { LsReport } from '../../src/ops/ls';
import { formatLs } from '../../src/ops/ls-format';
import { listContainer } from '../../src/ops/mirror-listing';

const ID = 'd'.repeat(64);
const C = `/registry/containers/${ID}/`;
const layout = new MirrorLayout('registry');

describe('ls text output', () => {
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
});
