import { parseContainer } from '../src/docker/container';
import type { ContainerInfo } from '../src/docker/container-facts';
import { hameshKeys } from '../src/hamesh/layout';
import { MirrorLayout, mirrorEntry } from '../src/mirror/keys';
import { hostPort } from '../src/registrator/address';
import { OWNERS_ROOT } from '../src/etcd/key-ops';
import type { Service, ServiceModelOptions } from '../src/registrator/service';
import { containerServices } from '../src/registrator/service-model';

/** The host name every daemon and reference of the benchmark files its data under. */
export const HOST = 'bench-host';
/** The port every benchmark container exposes, and the service name it asks for. */
export const SERVICE_PORT = 8080;
export const SERVICE_NAME = 'bench-svc';
/** The label carrying each container's service address (`-useIpFromLabel`): containers run without a network. */
export const IP_LABEL = 'bench.ip';

/**
 * Where one writer set puts its keys: the mirror prefix, and for the backends configuration the
 * hamesh and etcd prefixes. Daemon and reference use shapes that differ only in these names.
 */
export interface Shape {
  mirrorDir: string;
  hamesh?: string;
  services?: string;
}

/** The service model settings matching the daemon's `-internal -ip 127.0.0.1 -useIpFromLabel bench.ip`. */
const MODEL: ServiceModelOptions = {
  host: HOST,
  hostIp: '127.0.0.1',
  internal: true,
  explicit: false,
  tags: '',
  useIpFromLabel: IP_LABEL,
  ttl: 0,
};

/** An ownership record's key, as the etcd-based backends file it next to each service (per container and service). */
function ownerKey(scheme: string, path: string, service: Service): string {
  return `${OWNERS_ROOT}/${HOST}/${scheme}/${path}/${service.origin.containerId}/${encodeURIComponent(service.id)}`;
}

/** Every key and value the writers of `shape` hold for one running container. */
export function shapeKeys(info: ContainerInfo, shape: Shape): Map<string, string> {
  const container = parseContainer(info);
  const keys = mirrorEntry(container, HOST, new MirrorLayout(shape.mirrorDir));
  if (!shape.hamesh && !shape.services) return keys;
  for (const service of containerServices(container, MODEL).services) {
    const record = JSON.stringify(service);
    if (shape.hamesh) {
      const entries = hameshKeys(shape.hamesh, service);
      for (const [key, value] of entries) keys.set(key, value);
      if (entries.length > 0) keys.set(ownerKey('hamesh', shape.hamesh, service), record);
    }
    if (shape.services) {
      keys.set(`/${shape.services}/${service.name}/${service.id}`, hostPort(service.ip, service.port));
      keys.set(ownerKey('etcd', shape.services, service), record);
    }
  }
  return keys;
}

/** Keys under `prefix` that each finished container has: counted, they tell how many a writer has finished. */
export interface Marker {
  prefix: string;
  perContainer: number;
}

/**
 * Per writer, keys written in the same transaction as the rest of that writer's keys for a container
 * whose name starts with `name`: the mirror's hosts/ key (one), the hamesh service's tree (its three
 * keys: address, port, mode) and the etcd service key (one).
 */
export function markerPrefixes(shape: Shape, name: string): Marker[] {
  const serviceId = `${HOST}:${name}`;
  return [
    { prefix: `/${shape.mirrorDir}/hosts/${HOST}/${name}`, perContainer: 1 },
    ...(shape.hamesh ? [{ prefix: `/${shape.hamesh}/${SERVICE_NAME}/${serviceId}`, perContainer: 3 }] : []),
    ...(shape.services ? [{ prefix: `/${shape.services}/${SERVICE_NAME}/${serviceId}`, perContainer: 1 }] : []),
  ];
}

/** The exact marker keys of one container (its only service is on SERVICE_PORT). */
export function markerKeys(shape: Shape, name: string): string[] {
  const id = `${HOST}:${name}:${SERVICE_PORT}`;
  return [
    `/${shape.mirrorDir}/hosts/${HOST}/${name}`,
    ...(shape.hamesh ? [`/${shape.hamesh}/${SERVICE_NAME}/${id}/address`] : []),
    ...(shape.services ? [`/${shape.services}/${SERVICE_NAME}/${id}`] : []),
  ];
}
