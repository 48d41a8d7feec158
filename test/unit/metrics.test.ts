import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { Metrics } from '../../src/http/metrics';
import type { DaemonStatus } from '../../src/observer';

const ours = (text: string) => text.split('\n').filter((l) => l.startsWith('registrator_'));

describe('Metrics', () => {
  it('exposes the observer calls and the daemon status, in a registry of its own', async () => {
    const status: DaemonStatus = {
      dockerConnected: true,
      firstReconcileDone: true,
      writers: [
        { name: 'writer.mirror', state: 'in-step', containersHeld: 4 },
        { name: 'writer.etcd', state: 'out-of-step', containersHeld: 2 },
        { name: 'writer.consul', state: 'unreachable', containersHeld: 0 },
      ],
    };
    const metrics = new Metrics();
    metrics.readStatusFrom(() => status);
    metrics.eventHandled('start');
    metrics.eventHandled('start');
    metrics.eventHandled('die');
    metrics.written('writer.mirror', true);
    metrics.written('writer.etcd', false);
    metrics.reconciled(true, 0.2);
    metrics.reconciled(false, 3);
    metrics.leaseHeld('etcd:///services', true);
    metrics.leaseHeld('hamesh:///mesh', false);
    const lines = ours(await metrics.registry.metrics());
    for (const line of [
      'registrator_docker_events_total{action="start"} 2',
      'registrator_docker_events_total{action="die"} 1',
      'registrator_docker_events_total{action="update"} 0',
      'registrator_writes_total{writer="writer.mirror"} 1',
      'registrator_writes_total{writer="writer.etcd"} 1',
      'registrator_writes_total{writer="writer.consul"} 0',
      'registrator_write_errors_total{writer="writer.mirror"} 0',
      'registrator_write_errors_total{writer="writer.etcd"} 1',
      'registrator_reconcile_duration_seconds_bucket{le="0.25",outcome="success"} 1',
      'registrator_reconcile_duration_seconds_bucket{le="2.5",outcome="failure"} 0',
      'registrator_reconcile_duration_seconds_bucket{le="5",outcome="failure"} 1',
      'registrator_reconcile_duration_seconds_count{outcome="success"} 1',
      'registrator_reconciliations_total{outcome="success"} 1',
      'registrator_reconciliations_total{outcome="failure"} 1',
      'registrator_lease_held{registry="etcd:///services"} 1',
      'registrator_lease_held{registry="hamesh:///mesh"} 0',
      'registrator_docker_connected 1',
      'registrator_writer_reachable{writer="writer.mirror"} 1',
      'registrator_writer_reachable{writer="writer.etcd"} 1',
      'registrator_writer_reachable{writer="writer.consul"} 0',
      'registrator_writer_in_step{writer="writer.mirror"} 1',
      'registrator_writer_in_step{writer="writer.etcd"} 0',
      'registrator_writer_in_step{writer="writer.consul"} 0',
      'registrator_containers_held{writer="writer.mirror"} 4',
      'registrator_containers_held{writer="writer.etcd"} 2',
    ]) {
      assert.ok(lines.includes(line), `missing: ${line}`);
    }
    assert.match(await metrics.registry.metrics(), /^process_cpu_user_seconds_total \d/m, 'default metrics in the same registry');
    assert.equal((await globalRegistry.metrics()).trim(), '', 'the global registry is left alone');

    status.dockerConnected = false;
    status.writers[1].state = 'in-step';
    const later = ours(await metrics.registry.metrics());
    assert.ok(later.includes('registrator_docker_connected 0'));
    assert.ok(later.includes('registrator_writer_in_step{writer="writer.etcd"} 1'));
  });

  it('shows no writer and Docker disconnected until the daemon exists', async () => {
    const lines = ours(await new Metrics().registry.metrics());
    assert.ok(lines.includes('registrator_docker_events_total{action="start"} 0'));
    assert.ok(lines.includes('registrator_docker_connected 0'));
    assert.ok(!lines.some((l) => l.includes('writer=')));
  });
});
