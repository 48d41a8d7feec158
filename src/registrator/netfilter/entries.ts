import type { Service } from '../service';

/**
 * What the netfilter writer puts in its ipset (docs/registrator.md), as pure functions. The entries are the
 * container's own IPv6 address and port: the destination of IPv6 traffic forwarded to docker0,
 * whichever address the service registers elsewhere.
 */

/** `<ip>,<proto>:<port>` and `<ip>,icmpv6:128/0` (ping) for a container with an IPv6 address; none otherwise. */
export function serviceEntries(service: Service): { port: string; ping: string } | undefined {
  const ip = service.origin.ipv6;
  if (!ip) return undefined;
  return { port: `${ip},${service.origin.proto}:${service.origin.exposedPort}`, ping: `${ip},icmpv6:128/0` };
}

/** An entry as ipset prints it back (`ipset save`): compressed lowercase IPv6, ICMPv6 echo request by name. */
export function canonicalEntry(entry: string): string {
  const comma = entry.indexOf(',');
  if (comma === -1) return entry;
  const ip = canonicalIpv6(entry.slice(0, comma));
  let rest = entry.slice(comma + 1).toLowerCase();
  if (rest === 'icmpv6:128/0' || rest === 'ipv6-icmp:128/0') rest = 'ipv6-icmp:echo-request';
  return `${ip},${rest}`;
}

function canonicalIpv6(ip: string): string {
  try {
    // The WHATWG URL parser serialises IPv6 hosts in RFC 5952 form, as ipset prints them.
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** The entries of `set` in `ipset save <set>` output. */
export function parseSavedEntries(output: string, set: string): string[] {
  const prefix = `add ${set} `;
  return output
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

/** The two rules of `chain` (ip6tables arguments after `-A`/`-C`), ACCEPT first. */
export function chainRules(chain: string, set: string): { accept: string[]; drop: string[] } {
  return {
    accept: [chain, '-o', 'docker0', '-m', 'set', '--match-set', set, 'dst,dst', '-j', 'ACCEPT'],
    drop: [chain, '-o', 'docker0', '-j', 'DROP'],
  };
}
