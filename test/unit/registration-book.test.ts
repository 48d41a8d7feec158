import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hameshKeyLayout } from '../../src/hamesh/registry-layout';
import { watchPrefix } from '../../src/registrator/etcd-kv/held-watch';
import { RegistrationBook } from '../../src/registrator/registration-book';
import type { Service } from '../../src/registrator/service';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function service(o: { id?: string; container?: string; attrs?: Record<string, string>; ip?: string } = {}): Service {
  return {
    id: o.id ?? 'h1:web:80',
    name: 'web',
    port: 8080,
    ip: o.ip ?? '10.0.0.5',
    tags: [],
    attrs: o.attrs ?? {},
    origin: {
      containerId: o.container ?? A,
      containerName: 'web',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: 'web',
    },
  };
}

const layout = hameshKeyLayout('mesh');
/** The book as the etcd registry core makes it for hamesh://mesh on host h1. */
function meshBook(): RegistrationBook {
  return new RegistrationBook((s) => {
    const keys = layout.entries(s).map(([k]) => k);
    return { keys, claims: layout.claims.of(s), watched: watchPrefix(layout, 'h1', s, keys) };
  });
}
const record = (s: Service) => `/_registrator/owners/h1/hamesh/mesh/${s.origin.containerId}/${encodeURIComponent(s.id)}`;
const db = service({ id: 'h1:db:5432', container: B, attrs: { external_port: '5432' } });
const claim = '/_registrator/claims/hamesh/mesh/external_port/5432/web%2Fh1%3Adb%3A5432';
const range = '/_registrator/claims/hamesh/mesh/external_port/5432/';

describe("the book of a host's registrations", () => {
  it('files a service by record key, finds it by container and ID, and gives the services per container', () => {
    const book = new RegistrationBook();
    const web = service();
    const other = service({ id: 'custom', container: B });
    book.hold(web, 'r/a', '0');
    book.hold(other, 'r/b', '7');
    assert.equal(book.find(web, 'r/a')?.revision, '0');
    assert.equal(book.find(web, 'elsewhere')?.recordKey, 'r/a', 'found by container and ID');
    assert.deepEqual([...book.servicesOf(A)], [['h1:web:80', web]]);
    assert.deepEqual(book.containerIds(), [A, B]);
    assert.deepEqual(book.services(), [web, other]);
    assert.equal(book.size, 2);
    book.drop('r/a');
    assert.equal(book.find(web, 'r/a'), undefined);
    assert.deepEqual(book.containerIds(), [B]);
    assert.equal(book.servicesOf(A).size, 0);
  });

  it('hold moves a record filed under an earlier key; set keeps both until one is dropped', () => {
    const book = new RegistrationBook();
    const web = service();
    book.set(web, 'legacy', '3');
    book.set(web, 'current', '3');
    assert.equal(book.size, 1, 'one service, two records');
    book.drop('current');
    assert.equal(book.find(web, 'current')?.recordKey, 'legacy');
    book.hold(web, 'current', '4');
    assert.equal(book.holdsKey('legacy'), false, 'the earlier record is dropped');
    assert.equal(book.find(web, 'current')?.revision, '4');
  });

  it('the same service booked again changes only its revision; a changed one is shaped anew', () => {
    const book = meshBook();
    const web = service();
    book.hold(web, record(web), '0');
    const entry = book.find(web, record(web))!;
    book.hold(web, record(web), '9');
    assert.equal(book.find(web, record(web)), entry);
    assert.equal(entry.revision, '9');
    const moved = service({ ip: '10.0.0.9' });
    book.hold(moved, record(moved), '9');
    assert.notEqual(book.find(moved, record(moved)), entry);
    assert.equal(book.find(moved, record(moved))?.service, moved);
  });

  it('knows every key, record and claim it holds, and forgets a key once no service holds it', () => {
    const book = meshBook();
    book.hold(db, record(db), '5');
    assert.equal(book.holdsKey(record(db)), true);
    assert.equal(book.holdsKey('/mesh/web/h1:db:5432/address'), true);
    assert.equal(book.holdsKey(claim), true);
    assert.deepEqual(book.claimsOn('/mesh/web/h1:db:5432/external_port'), [claim]);
    assert.deepEqual(book.claimsIn(range), [claim]);
    assert.deepEqual(book.claimRanges(), [range]);
    assert.deepEqual(book.watched(), ['/mesh/web/h1:']);
    book.drop(record(db));
    assert.equal(book.holdsKey('/mesh/web/h1:db:5432/address'), false);
    assert.deepEqual(book.claimsOn('/mesh/web/h1:db:5432/external_port'), []);
    assert.deepEqual(book.claimRanges(), []);
    assert.deepEqual(book.watched(), []);
  });

  it('says when its watched prefixes or claim ranges changed, not when a service joins a watched prefix', () => {
    const book = meshBook();
    assert.equal(book.takeChanged(), false);
    book.hold(service(), record(service()), '1');
    assert.equal(book.takeChanged(), true);
    assert.equal(book.takeChanged(), false, 'told once');
    const second = service({ id: 'h1:web2:80', container: B });
    book.hold(second, record(second), '1');
    assert.equal(book.takeChanged(), false, 'the same prefix, h1:, already watched');
    const custom = service({ id: 'custom', container: B });
    book.hold(custom, record(custom), '1');
    assert.equal(book.takeChanged(), true, 'a custom ID is watched on its own');
    book.hold(db, record(db), '1');
    assert.equal(book.takeChanged(), true, 'a new claim range');
    book.clear();
    assert.equal(book.takeChanged(), true);
    assert.equal(book.size, 0);
  });

  it('a snapshot restores the entries as they were before a failed change', () => {
    const book = meshBook();
    const web = service();
    book.hold(web, record(web), '5');
    const before = book.snapshot([record(web), record(db)]);
    book.drop(record(web));
    book.hold(db, record(db), '0');
    book.restore(before);
    assert.equal(book.find(web, record(web))?.revision, '5');
    assert.equal(book.find(db, record(db)), undefined, 'the new service is gone again');
    assert.equal(book.holdsKey(claim), false);
    assert.equal(book.holdsKey('/mesh/web/h1:web:80/address'), true);
  });
});
