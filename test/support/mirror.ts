import type Docker from 'dockerode';
import type { EtcdServer } from './etcd';

/**
 * The exact keys docs/mirror.md, "Key layout" gives for a running container, written out from the inspect result
 * field by field (independently of the product's own key builder).
 */
export function expectedMirror(c: Docker.ContainerInspectInfo, host: string, dir = 'registry'): Record<string, string> {
  const base = `/${dir}/containers/${c.Id}/`;
  const name = c.Name.slice(1);
  const settings = c.NetworkSettings as Docker.ContainerInspectInfo['NetworkSettings'] & { IPAddress?: string };
  // docs/mirror.md, "Key layout": the IP of the first network, by name, that has one.
  const networkIp =
    Object.entries(settings.Networks ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, network]) => network.IPAddress)
      .find((ip) => ip) ?? '';
  const out: Record<string, string> = {
    [`${base}id`]: c.Id,
    [`${base}created`]: c.Created,
    [`${base}state`]: c.State.Paused ? 'paused' : c.State.Status,
    [`${base}image`]: c.Config.Image,
    [`${base}name`]: name,
    [`${base}host`]: host,
    [`${base}network/ip`]: settings.IPAddress || networkIp,
    [`/${dir}/hosts/${host}/${name}`]: c.Id,
    // This host's index of its entries (docs/mirror.md), outside the layout consumers read.
    [`/_registrator/owners/${host}/mirror/${dir}/${c.Id}`]: name,
  };
  const ports = new Set([...Object.keys(settings.Ports ?? {}), ...Object.keys(c.Config.ExposedPorts ?? {})]);
  for (const spec of ports) {
    const [port, proto] = spec.split('/');
    const binding = (settings.Ports?.[spec] ?? [])[0];
    out[`${base}network/ports/${port}-${proto}/intPort`] = port;
    out[`${base}network/ports/${port}-${proto}/extPort`] = binding?.HostPort ?? '';
    // docs/podman.md: a port published on every address is `0.0.0.0` whichever engine says it (Podman sends "").
    out[`${base}network/ports/${port}-${proto}/extIp`] = binding ? binding.HostIp || '0.0.0.0' : '';
    out[`${base}network/ports/${port}-${proto}/proto`] = proto;
  }
  for (const [label, value] of Object.entries(c.Config.Labels ?? {})) {
    out[`${base}labels/${label}`] = value;
    out[`/${dir}/labels/${label}/${c.Id}`] = value;
  }
  return out;
}

/** Everything etcd holds that belongs to one container id (its entry, host key, label index keys, index record). */
export async function heldFor(etcd: Pick<EtcdServer, 'tree'>, id: string, dir = 'registry'): Promise<Record<string, string>> {
  const records = Object.entries(await etcd.tree('/_registrator/owners/')).filter(([k]) => k.endsWith(`/mirror/${dir}/${id}`));
  const tree = { ...(await etcd.tree(`/${dir}/`)), ...Object.fromEntries(records) };
  return Object.fromEntries(
    Object.entries(tree).filter(([k, v]) => k.includes(`/${id}/`) || k.endsWith(`/${id}`) || (k.startsWith(`/${dir}/hosts/`) && v === id)),
  );
}

/** Sorted copy, so deepEqual failures print readably. */
export function sorted(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
