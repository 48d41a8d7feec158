import { etcdContract } from '../support/etcd-contract';
import { EtcdServer } from '../support/etcd';
import { sleep, waitFor } from '../support/wait';

// The cases test/unit/memory-etcd.contract.test.ts runs against the in-memory etcd, against etcd itself.
etcdContract('a real etcd', async () => {
  const etcd = await EtcdServer.start();
  return {
    url: etcd.url,
    // A real etcd's leases run on the wall clock: the time has to pass, then etcd's lessor to act (it checks every 500 ms).
    passTime: async (ms, settled) => {
      await sleep(ms);
      await waitFor('etcd to settle', settled, 5_000, 50);
    },
    stop: () => etcd.stop(),
  };
});
