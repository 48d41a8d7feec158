import type { ContainerInfo } from '../src/docker/container';
import { hameshKeys } from '../src/hamesh/layout';
import { MirrorLayout, mirrorEntry } from '../src/mirror/keys';
import { hostPort } from '../src/registrator/address';
import { OWNERS_ROOT } from '../src/etcd/owners';
import { containerServices, Service, ServiceModelOptions } from '../src/registrator/service';

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
export const MODEL: ServiceModelOptions = { host: HOST, hostIp: '127.0.0.1', internal: true, explicit: false, tags: '', useIpFromLabel: IP_LABEL, ttl: 0 };

/** An ownership record's key, as the etcd-based backends file it next to each service. */
function ownerKey(scheme: string, path: string, service: Service): string {
  return `${OWNERS_ROOT}/${HOST}/${scheme}/${path}/${encodeURIComponent(service.id)}`;
}

/** Every key and value the writers of `shape` hold for one running container. */
export function shapeKeys(info: ContainerInfo, shape: Shape): Map<string, string> {
  const keys = mirrorEntry(info, HOST, new MirrorLayout(shape.mirrorDir));
  if (!shape.hamesh && !shape.services) return keys;
  for (const service of containerServices(info, MODEL).services) {
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

/**
 * One key per writer that is written last-or-together with the rest of that writer's keys for a
 * container whose name starts with `name`: the mirror's hosts/ key and each backend's ownership
 * record. Counting them under these prefixes tells how many containers every writer has finished.
 */
export function markerPrefixes(shape: Shape, name: string): string[] {
  const serviceId = encodeURIComponent(`${HOST}:${name}`);
  return [
    `/${shape.mirrorDir}/hosts/${HOST}/${name}`,
    ...(shape.hamesh ? [`${OWNERS_ROOT}/${HOST}/hamesh/${shape.hamesh}/${serviceId}`] : []),
    ...(shape.services ? [`${OWNERS_ROOT}/${HOST}/etcd/${shape.services}/${serviceId}`] : []),
  ];
}

/** The exact marker keys of one container (its only service is on SERVICE_PORT). */
export function markerKeys(shape: Shape, name: string): string[] {
  return markerPrefixes(shape, name).map((prefix, i) => (i === 0 ? prefix : `${prefix}${encodeURIComponent(`:${SERVICE_PORT}`)}`));
}
