import { ContainerInfo, containerName } from '../docker/container';

/** Key layout of the mirror (SPEC §3), relative to one prefix such as `/registry`. */
export class MirrorLayout {
  /** e.g. `/registry` */
  readonly root: string;

  constructor(dir: string) {
    this.root = `/${dir.replace(/^\/+|\/+$/g, '')}`;
  }

  get containersPrefix(): string {
    return `${this.root}/containers/`;
  }
  get hostsPrefix(): string {
    return `${this.root}/hosts/`;
  }
  get labelsPrefix(): string {
    return `${this.root}/labels/`;
  }
  /** Everything the mirror owns, every host's (SIGUSR2 purges this). */
  get allPrefix(): string {
    return `${this.root}/`;
  }
  container(id: string): string {
    return `${this.containersPrefix}${id}/`;
  }
  hostEntry(host: string, name: string): string {
    return `${this.hostsPrefix}${host}/${name}`;
  }
  hostPrefix(host: string): string {
    return `${this.hostsPrefix}${host}/`;
  }
  labelEntry(label: string, id: string): string {
    return `${this.labelsPrefix}${label}/${id}`;
  }
}

/** The IP the mirror shows: the default bridge IP, else the first network's by name, else "". */
export function mirrorIp(c: ContainerInfo): string {
  // IPAddress is the default-bridge IP; newer API typings dropped it, engines still send it.
  const settings = c.NetworkSettings as (ContainerInfo['NetworkSettings'] & { IPAddress?: string }) | undefined;
  if (settings?.IPAddress) return settings.IPAddress;
  const networks = settings?.Networks ?? {};
  const first = Object.keys(networks).sort()[0];
  return (first && networks[first]?.IPAddress) || '';
}

interface PortEntry {
  port: string;
  proto: string;
  extPort: string;
  extIp: string;
}

/**
 * Published and exposed ports. Ports come from NetworkSettings.Ports, plus Config.ExposedPorts
 * (host-network containers have no NetworkSettings.Ports); unpublished ones get "" bindings.
 */
export function mirrorPorts(c: ContainerInfo): PortEntry[] {
  const bindings = (c.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  const specs = new Set([...Object.keys(bindings), ...Object.keys(c.Config?.ExposedPorts ?? {})]);
  const out: PortEntry[] = [];
  for (const spec of specs) {
    const [port, proto = 'tcp'] = spec.split('/');
    const first = bindings[spec]?.[0];
    out.push({ port, proto, extPort: first?.HostPort ?? '', extIp: first?.HostIp ?? '' });
  }
  return out;
}

/** The state value the mirror shows. */
export function mirrorState(c: ContainerInfo): string {
  if (c.State?.Paused) return 'paused';
  return c.State?.Status ?? 'running';
}

/**
 * Every key/value the mirror holds for one active container on `host` (SPEC §3). Pure: the
 * writer diffs this against what etcd holds.
 */
export function mirrorEntry(c: ContainerInfo, host: string, layout: MirrorLayout): Map<string, string> {
  const id = c.Id;
  const base = layout.container(id);
  const name = containerName(c);
  const keys = new Map<string, string>([
    [`${base}id`, id],
    [`${base}created`, c.Created],
    [`${base}state`, mirrorState(c)],
    [`${base}image`, c.Config?.Image ?? ''],
    [`${base}name`, name],
    [`${base}host`, host],
    [`${base}network/ip`, mirrorIp(c)],
  ]);
  for (const p of mirrorPorts(c)) {
    const portBase = `${base}network/ports/${p.port}-${p.proto}/`;
    keys.set(`${portBase}intPort`, p.port);
    keys.set(`${portBase}extPort`, p.extPort);
    keys.set(`${portBase}extIp`, p.extIp);
    keys.set(`${portBase}proto`, p.proto);
  }
  for (const [label, value] of Object.entries(c.Config?.Labels ?? {})) {
    keys.set(`${base}labels/${label}`, value);
    keys.set(layout.labelEntry(label, id), value);
  }
  keys.set(layout.hostEntry(host, name), id);
  return keys;
}
