import { hameshKeyLayout } from '../../hamesh/registry-layout';
import type { BackendFactory } from '../backend';
import { etcdKvBackend } from '../etcd-kv-backend';

/** hamesh://[host:port]/<prefix> (docs/registrator.md#hamesh): the etcd registry core with HaMesh's layout (src/hamesh/). */
export const createHameshBackend: BackendFactory = (uri, context) => etcdKvBackend(uri, context, hameshKeyLayout(uri.path));
