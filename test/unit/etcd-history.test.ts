import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtcdHistory, HistoryChange, isCompactedError } from '../../src/etcd/history';

function recording(): { history: EtcdHistory; changes: HistoryChange[]; restarts: number[] } {
  const history = new EtcdHistory();
  const changes: HistoryChange[] = [];
  const restarts: number[] = [];
  history.onChange((c) => changes.push(c));
  history.onRestart(() => restarts.push(changes.length));
  return { history, changes, restarts };
}

describe('etcd history', () => {
  it('a steady cluster whose revision rises (or stays) is no change', () => {
    const { history, changes } = recording();
    for (const revision of ['5', '5', '9', '120']) history.observe({ cluster_id: '77', revision });
    assert.deepEqual(changes, []);
  });

  it('another cluster ID is a change (restored from a snapshot, rebuilt), told once', () => {
    const { history, changes, restarts } = recording();
    history.observe({ cluster_id: '77', revision: '500' });
    history.observe({ cluster_id: '91', revision: '3' });
    history.observe({ cluster_id: '91', revision: '4' });
    assert.deepEqual(changes, [{ kind: 'cluster', detail: 'cluster ID 77 -> 91, revision 500 -> 3' }]);
    // The watches restart before the listeners reconcile.
    assert.deepEqual(restarts, [0]);
  });

  it('a lower revision of the same cluster is a change; the new history is followed from there', () => {
    const { history, changes } = recording();
    history.observe({ cluster_id: '77', revision: '500' });
    history.observe({ cluster_id: '77', revision: '1' });
    history.observe({ cluster_id: '77', revision: '2' });
    assert.deepEqual(changes, [{ kind: 'revision', detail: 'revision 500 -> 1' }]);
  });

  it('a compacted watch is a change', () => {
    const { history, changes, restarts } = recording();
    history.compacted('/registry/hosts/h/', 'Watcher canceled: etcdserver: mvcc: required revision has been compacted');
    assert.equal(changes.length, 1);
    assert.equal(changes[0].kind, 'compacted');
    assert.deepEqual(restarts, [0]);
  });

  it("tells etcd's compacted answer from other watch errors", () => {
    assert.equal(isCompactedError(new Error('Watcher canceled: etcdserver: mvcc: required revision has been compacted')), true);
    assert.equal(isCompactedError(new Error('14 UNAVAILABLE: No connection established')), false);
  });
});
