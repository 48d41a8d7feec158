import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../log';
import { pickHostAddress } from './service';

/**
 * The address registered for ports bound to 0.0.0.0/:: (SPEC §5): `-ip` when given, else what
 * `host` resolves to; when that is loopback or fails, the machine's first non-internal IPv4 (logged).
 */
export async function resolveHostAddress(ip: string, host: string, log: Logger): Promise<string> {
  if (ip) return ip;
  const resolved = await lookup(host, { all: true }).then((r) => r.map((a) => a.address), () => []);
  const choice = pickHostAddress(resolved, networkInterfaces());
  if (choice.source !== 'resolved') log.warn('host name does not resolve to a usable address; using another', { host, resolved, address: choice.address, source: choice.source });
  return choice.address;
}
