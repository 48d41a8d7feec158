import { after, afterEach, before } from 'node:test';
import { DaemonProcess } from './daemon';
import { ensureTestImage, TestContainers } from './docker';
import { EtcdServer } from './etcd';

/**
 * Hooks for a suite whose tests each start a daemon against one etcd: the test image and etcd
 * come up once; after every test the daemon is killed, the suite's containers removed and etcd emptied.
 */
export function daemonSuite(tag: string, host: string) {
  const suite = {
    etcd: undefined as unknown as EtcdServer,
    daemon: undefined as DaemonProcess | undefined,
    containers: new TestContainers(`${tag}-${process.pid}`),
    /** Starts the daemon with these arguments and waits for its first reconciliation. */
    async start(args: string[]): Promise<DaemonProcess> {
      suite.daemon = new DaemonProcess(args, { EC_REGISTRATOR_ETCD_HOSTS: suite.etcd.endpoint, EC_REGISTRATOR_HOST: host });
      await suite.daemon.waitForReconciliations(1);
      return suite.daemon;
    },
    /** The host port Docker published for `spec` (e.g. `80/tcp`). */
    async hostPort(id: string, spec: string): Promise<string> {
      return (await suite.containers.inspect(id)).NetworkSettings.Ports[spec][0].HostPort;
    },
  };
  before(async () => {
    await ensureTestImage();
    suite.etcd = await EtcdServer.start();
  });
  afterEach(async () => {
    await suite.daemon?.kill();
    await suite.containers.removeAll();
    await suite.etcd.client.delete().all();
  });
  after(async () => {
    await suite.etcd.stop();
  });
  return suite;
}
