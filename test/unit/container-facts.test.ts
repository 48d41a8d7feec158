import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePortKey } from '../../src/docker/container-facts';
import { readServiceRecord, serviceOfRecord } from '../../src/registrator/service-record';
import { WarnOnce } from '../../src/warn-once';

describe('container facts', () => {
  it('parsePortKey splits a port key as written and leaves range and protocol to the caller', () => {
    assert.deepEqual(parsePortKey('080/TCP'), { digits: '080', port: 80, proto: 'TCP' });
    assert.deepEqual(parsePortKey('99999'), { digits: '99999', port: 99999, proto: undefined });
    for (const key of ['', 'abc/tcp', '80/tcp/x', '-1/tcp']) assert.equal(parsePortKey(key), undefined, key);
  });
});

describe('WarnOnce', () => {
  it('says a text once per subject, again when it changes', () => {
    const said = new WarnOnce({ emptyForgets: false });
    assert.equal(said.isNew('a', 'x'), true);
    assert.equal(said.isNew('a', 'x'), false);
    assert.equal(said.isNew('b', 'x'), true);
    assert.equal(said.isNew('a', 'y'), true);
    said.forget('a');
    assert.equal(said.isNew('a', 'y'), true);
  });

  it('an empty text is never said; it forgets the last one only when asked to', () => {
    const keeps = new WarnOnce({ emptyForgets: false });
    const forgets = new WarnOnce({ emptyForgets: true });
    for (const said of [keeps, forgets]) {
      said.isNew('a', 'x');
      assert.equal(said.isNew('a', ''), false);
    }
    assert.equal(keeps.isNew('a', 'x'), false);
    assert.equal(forgets.isNew('a', 'x'), true);
  });
});

describe('stored service records', () => {
  it('a record without the container it belongs to holds no service', () => {
    const value = '{"id":"a","name":"b","ip":"c","port":80,"tags":[],"attrs":{},"origin":{}}';
    assert.deepEqual(readServiceRecord(value), { problem: '"origin.containerId" is not a string' });
    assert.equal(serviceOfRecord(value), undefined);
    const whole = '{"id":"a","name":"b","ip":"c","port":80,"tags":[],"attrs":{},"origin":{"containerId":"d"}}';
    assert.deepEqual(serviceOfRecord(whole), JSON.parse(whole));
  });
});
