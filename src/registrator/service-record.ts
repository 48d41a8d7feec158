import type { Service } from './service';

/** A registry ownership record read back: the service it holds, or why it holds none. */
export type ServiceRecord = { service: Service } | { problem: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a stored service: the JSON of a `Service` as the registry backends write it (an etcd
 * ownership record, a Consul KV record or agent Meta marker). Only the fields a registry lays a
 * service out from, and the container it belongs to, must be there and of their type; anything else
 * a newer writer adds is let through. Pure.
 */
export function readServiceRecord(value: string): ServiceRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    return { problem: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(parsed)) return { problem: 'not a JSON object' };
  for (const field of ['id', 'name', 'ip'] as const)
    if (typeof parsed[field] !== 'string') return { problem: `"${field}" is not a string` };
  if (typeof parsed.port !== 'number' || !Number.isFinite(parsed.port)) return { problem: '"port" is not a number' };
  if (!Array.isArray(parsed.tags)) return { problem: '"tags" is not an array' };
  if (!isObject(parsed.attrs)) return { problem: '"attrs" is not an object' };
  if (!isObject(parsed.origin)) return { problem: '"origin" is not an object' };
  if (typeof parsed.origin.containerId !== 'string') return { problem: '"origin.containerId" is not a string' };
  return { service: parsed as unknown as Service };
}

/** The service a stored record holds, or undefined when it holds none (see readServiceRecord). */
export function serviceOfRecord(value: string): Service | undefined {
  const record = readServiceRecord(value);
  return 'service' in record ? record.service : undefined;
}
