import { etcdContract } from '../support/etcd-contract';
import { MemoryEtcd } from '../support/memory-etcd';
import { waitFor } from '../support/wait';

etcdContract('the in-memory etcd', async () => {
  const memory = await MemoryEtcd.start();
  return {
    url: `http://${memory.endpoint}`,
    passTime: async (ms, settled) => {
      memory.advance(ms);
      await waitFor('the store to settle', settled, 2_000, 5);
    },
    stop: () => memory.stop(),
  };
});
