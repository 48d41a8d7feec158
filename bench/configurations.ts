import { IP_LABEL, Shape } from './shape';

/** One way of running the daemon, and the reference doing the same writes. */
export interface BenchConfiguration {
  name: string;
  /** Daemon command-line arguments. */
  args: string[];
  daemon: Shape;
  /** Same key shapes, other prefixes of the same lengths, so both can write at once during the latency run. */
  reference: Shape;
}

export const CONFIGURATIONS: BenchConfiguration[] = [
  {
    name: 'mirror',
    args: [],
    daemon: { mirrorDir: 'registry' },
    reference: { mirrorDir: 'refmirro' },
  },
  {
    name: 'mirror+hamesh+etcd',
    // -internal with a label address: 1,000 published host ports (or 1,000 bridge ports) would be the test, not the daemon.
    args: ['-internal', '-ip', '127.0.0.1', '-useIpFromLabel', IP_LABEL, 'hamesh:///hamesh', 'etcd:///services'],
    daemon: { mirrorDir: 'registry', hamesh: 'hamesh', services: 'services' },
    reference: { mirrorDir: 'refmirro', hamesh: 'refmsh', services: 'refservi' },
  },
];
