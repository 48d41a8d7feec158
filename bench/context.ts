import type Docker from 'dockerode';
import type { EtcdServer } from '../test/support/etcd';
import type { Fleet } from './fleet';

/** What every scenario works with: the engine, the run's etcd and containers, and the run's settings. */
export interface BenchContext {
  docker: Docker;
  etcd: EtcdServer;
  fleet: Fleet;
  /** Where the daemon child writes V8 CPU profiles (BENCH_CPU_PROF), if anywhere. */
  cpuProfileDir?: string;
}

/** Time limits grow with the fleet: a 1,000-container sync on a loaded 2-core machine takes a while. */
export function timeoutFor(containers: number): number {
  return 60_000 + 100 * containers;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
