import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { Logger } from '../log';

/** The addresses registered for ports published on every address of the host (docs/registrator.md, "Services"). */
export interface HostAddresses {
  /** For `0.0.0.0`, no HostIp and `--net=host`: `-ip`, else the host's address (`pickHostAddress`). */
  wildcard: string;
  /** For ports published on `::` only: `-ip` when it is IPv6, else the host's IPv6 address; '' when it has none. */
  ipv6: string;
}

/**
 * The host's addresses: `-ip` when given (for `::` too when it is IPv6), else what `host` resolves
 * to; when that is loopback or fails, the machine's first non-internal IPv4 (logged), and for `::`
 * its first non-internal global IPv6.
 */
export async function resolveHostAddresses(ip: string, host: string, log: Logger): Promise<HostAddresses> {
  if (isIP(ip) === 6) return { wildcard: ip, ipv6: ip };
  const resolved = await lookup(host, { all: true }).then(
    (r) => r.map((a) => a.address),
    () => [],
  );
  const interfaces = networkInterfaces();
  let wildcard = ip;
  if (!wildcard) {
    const choice = pickHostAddress(resolved, interfaces);
    if (choice.source !== 'resolved')
      log.warn('host name does not resolve to a usable address; using another', {
        host,
        resolved,
        address: choice.address,
        source: choice.source,
      });
    wildcard = choice.address;
  }
  const ipv6 = pickHostIpv6Address(resolved, interfaces);
  if (ipv6?.source !== 'resolved')
    log.info('IPv6 address for ports published on :: only', {
      host,
      address: ipv6?.address ?? 'none: they get the IPv4 address',
      source: ipv6?.source ?? 'none',
    });
  return { wildcard, ipv6: ipv6?.address ?? '' };
}

/** How the daemon's own address was chosen; anything but `resolved` deserves a log line. */
export interface HostAddressChoice {
  address: string;
  source: 'resolved' | 'interface' | 'loopback';
}

/**
 * The host's address for wildcard bindings when `-ip` is not given (docs/registrator.md, "Services"): the first
 * non-loopback address `<host>` resolved to; if resolving failed (`resolved` empty) or gave only
 * loopback, the first non-internal IPv4 of `interfaces` (the shape of `os.networkInterfaces()`);
 * failing both, loopback, so the caller can still start and say why.
 */
export function pickHostAddress(resolved: readonly string[], interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): HostAddressChoice {
  const usable = resolved.find((address) => address !== '' && !isLoopbackOrUnspecified(address));
  if (usable) return { address: usable, source: 'resolved' };
  for (const addresses of Object.values(interfaces)) {
    // Node 18.0-18.3 reported the family as a number.
    const ipv4 = (addresses ?? []).find((a) => !a.internal && (a.family === 'IPv4' || (a.family as unknown) === 4));
    if (ipv4) return { address: ipv4.address, source: 'interface' };
  }
  return { address: resolved.find((address) => address !== '') ?? '127.0.0.1', source: 'loopback' };
}

/**
 * The host's IPv6 address, for ports published on `::` only, chosen the same way: the first global
 * IPv6 address `<host>` resolved to, else the first non-internal global IPv6 of `interfaces`;
 * undefined when the host has none (loopback and link-local addresses do not count).
 */
export function pickHostIpv6Address(
  resolved: readonly string[],
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): HostAddressChoice | undefined {
  const usable = resolved.find(isGlobalIpv6);
  if (usable) return { address: usable, source: 'resolved' };
  for (const addresses of Object.values(interfaces)) {
    const ipv6 = (addresses ?? []).find(
      (a) => !a.internal && (a.family === 'IPv6' || (a.family as unknown) === 6) && isGlobalIpv6(a.address),
    );
    if (ipv6) return { address: ipv6.address, source: 'interface' };
  }
  return undefined;
}

function isLoopbackOrUnspecified(address: string): boolean {
  const a = address.toLowerCase();
  return /^127\./.test(a) || /^::ffff:127\./.test(a) || a === '::1' || a === '0.0.0.0' || a === '::';
}

/** An IPv6 address a peer can reach without a zone: not loopback, unspecified, link-local or IPv4-mapped. */
function isGlobalIpv6(address: string): boolean {
  if (isIP(address) !== 6) return false;
  const a = address.toLowerCase();
  return !isLoopbackOrUnspecified(a) && !/^fe[89ab][0-9a-f]:/.test(a) && !a.startsWith('::ffff:');
}
