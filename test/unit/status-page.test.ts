import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusData } from '../../src/http/status-data';
import { escapeHtml, statusPage } from '../../src/http/status-page';

describe('status page', () => {
  it('escapes every markup character', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });

  it('builds rows from what the writers hold, and escapes hostile names and values', () => {
    const evil = '<script>alert(1)</script>';
    const data = statusData({
      host: 'h<1>',
      status: () => ({
        dockerConnected: true,
        firstReconcileDone: true,
        writers: [{ name: 'writer.mirror', state: 'in-step', containersHeld: 1 }],
      }),
      mirror: {
        layout: { container: (id: string) => `/registry/containers/${id}/` } as never,
        statusView: () => [{ containerId: 'c1', entry: new Map([['/registry/containers/c1/name', evil]]) }],
      },
      registries: [
        {
          uri: 'etcd:///services',
          writer: {
            statusView: () => [
              {
                containerId: 'c1',
                held: [],
                last: {
                  name: evil,
                  plan: { kept: false, actions: [], wanted: [], leftOut: [{ what: 'port 80/tcp', reason: `SERVICE_IGNORE is "${evil}"` }] },
                },
              },
            ],
          },
        },
      ],
    });
    assert.deepEqual(data.containers, [
      {
        id: 'c1',
        name: evil,
        mirror: { entry: [{ key: '/registry/containers/c1/name', value: evil }], leftOut: [] },
        registries: [
          { registry: 'etcd:///services', services: [], leftOut: [{ what: 'port 80/tcp', reason: `SERVICE_IGNORE is "${evil}"` }] },
        ],
      },
    ]);
    const html = statusPage(data);
    assert.ok(!html.includes('<script>'), html);
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('<meta http-equiv="refresh" content="5">'));
    assert.ok(!/src=|href="http/.test(html), 'no external assets');
  });
});
