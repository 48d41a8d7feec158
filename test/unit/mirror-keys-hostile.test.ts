import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainer } from '../../src/docker/container';
import { MirrorLayout, wantedEntry } from '../../src/mirror/keys';
import { ID, inspect } from '../fixtures/inspect';
import { baseEntry, ENTRY as C } from '../fixtures/mirror-entry';

const layout = new MirrorLayout('registry');

const base = (extra: Record<string, string>, name?: string, image?: string) => baseEntry(extra, { name, image });

/** Both keys of each label: the entry's and the fleet-wide index's. */
function labelKeys(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [label, value] of Object.entries(labels)) {
    out[`${C}labels/${label}`] = value;
    out[`/registry/labels/${label}/${ID}`] = value;
  }
  return out;
}

function port(spec: string, extPort = '', extIp = ''): Record<string, string> {
  const [p, proto] = spec.split('-');
  return {
    [`${C}network/ports/${spec}/intPort`]: p,
    [`${C}network/ports/${spec}/extPort`]: extPort,
    [`${C}network/ports/${spec}/extIp`]: extIp,
    [`${C}network/ports/${spec}/proto`]: proto,
  };
}

const KB100 = 'v'.repeat(100 * 1024);
const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`com.example.l${String(i).padStart(3, '0')}`, `value-${i}`]));
const longName = 'n'.repeat(200_000);

const mirrored: Array<{ name: string; container: ReturnType<typeof inspect>; expected: Record<string, string>; warnings?: string[] }> = [
  {
    name: 'label names with / = unicode, an empty name, empty and = values: one key per label, used as is',
    container: inspect({
      Labels: { 'a/b/c': '1', 'a/b': '2', 'x=y': 'p=q=r', 'ключ ✓': 'значение', '': 'empty name', empty: '', 'trailing/': '/' },
    }),
    expected: base(
      labelKeys({ 'a/b/c': '1', 'a/b': '2', 'x=y': 'p=q=r', 'ключ ✓': 'значение', '': 'empty name', empty: '', 'trailing/': '/' }),
    ),
  },
  {
    name: 'a 100 KB label value',
    container: inspect({ Labels: { big: KB100 } }),
    expected: base(labelKeys({ big: KB100 })),
  },
  {
    name: '500 labels: 1008 keys, still one entry',
    container: inspect({ Labels: many }),
    expected: base(labelKeys(many)),
  },
  {
    name: 'a 200 000-character name (Docker takes about 1 MiB)',
    container: inspect({ Name: `/${longName}` }),
    expected: base({}, longName),
  },
  {
    name: 'image given by ID and by short ID: used as Docker gives it',
    container: inspect({ Image: 'sha256:a7d1531d1e038183b49f4fa05cdf14f051b4db705dfcea74e57d62467830a003' }),
    expected: base({}, 'fx', 'sha256:a7d1531d1e038183b49f4fa05cdf14f051b4db705dfcea74e57d62467830a003'),
  },
  {
    name: "ports Docker's CLI allows: 0, 65535, sctp, an odd protocol, a bare port",
    container: inspect({ ExposedPorts: { '0/tcp': {}, '65535/tcp': {}, '80/sctp': {}, '81/xyz': {}, '82': {} } }),
    expected: base({ ...port('0-tcp'), ...port('65535-tcp'), ...port('80-sctp'), ...port('81-xyz'), ...port('82-tcp') }),
  },
  {
    name: "ports only Docker's API stores are left out with a warning each; the rest is mirrored",
    container: inspect({
      ExposedPorts: {
        '99999/tcp': {},
        'abc/tcp': {},
        '80/tcp/x': {},
        '-1/tcp': {},
        '': {},
        '80/ü': {},
        '70000-70001/tcp': {},
        '8080/tcp': {},
      },
      Ports: { '99999/tcp': null, '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '28080' }] },
    }),
    expected: base(port('8080-tcp', '28080', '127.0.0.1')),
    warnings: ['99999/tcp', 'abc/tcp', '80/tcp/x', '-1/tcp', '', '80/ü', '70000-70001/tcp'].map(
      (s) => `port ${JSON.stringify(s)} is not <0-65535>/<protocol>; left out of its entry`,
    ),
  },
  {
    name: '`80` and `80/tcp` are one port; the spelling with a binding wins',
    container: inspect({ ExposedPorts: { '80': {}, '80/tcp': {} }, Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } }),
    expected: base(port('80-tcp', '8080', '0.0.0.0')),
  },
];

describe('wantedEntry: hostile containers that are mirrored exactly', () => {
  for (const c of mirrored) {
    it(c.name, () => {
      const plan = wantedEntry(parseContainer(c.container), 'h1', layout);
      assert.equal(plan.entry === undefined ? plan.skipped : undefined, undefined);
      assert.deepEqual(Object.fromEntries(plan.entry!), c.expected);
      assert.deepEqual(plan.warnings, c.warnings ?? []);
    });
  }
});

const skipped: Array<{ name: string; container: ReturnType<typeof inspect>; reason: RegExp }> = [
  {
    name: 'six 200 KB labels (each written twice): more bytes than one transaction is given',
    container: inspect({ Labels: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`big${i}`, 'v'.repeat(200 * 1024)])) }),
    reason:
      /^its entry is too large for one etcd transaction \(\d+ bytes of keys and values, more than the 1048576 one etcd transaction is given/,
  },
  {
    name: 'a name of 600 000 characters (written as a value and in the hosts/ key)',
    container: inspect({ Name: `/${'n'.repeat(600_000)}` }),
    reason: /^its entry is too large for one etcd transaction \(\d+ bytes/,
  },
  {
    name: '2100 labels: more keys than one transaction holds',
    container: inspect({ Labels: Object.fromEntries(Array.from({ length: 2100 }, (_, i) => [`l${i}`, ''])) }),
    reason: /^its entry is too large for one etcd transaction \(4209 keys, more than the 4032 one etcd transaction can hold\)$/,
  },
];

describe('wantedEntry: entries too large for one transaction are skipped whole', () => {
  for (const c of skipped) {
    it(c.name, () => {
      const plan = wantedEntry(parseContainer(c.container), 'h1', layout);
      assert.equal(plan.entry, undefined);
      assert.match(plan.entry === undefined ? plan.skipped : '', c.reason);
    });
  }
});
