import type { Service } from '../registrator/service';

/** A registry ownership record read back: the service it holds, or why it holds none. */
export type ServiceRecord = { service: Service } | { problem: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a registry ownership record's value (the JSON of a `Service`, as EtcdKvBackend writes it).
 * Only the fields a registry lays a service out from are required to be there and of their type;
 * anything else a newer writer adds is let through. Pure.
 */
export function readServiceRecord(value: string): ServiceRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    return { problem: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(parsed)) return { problem: 'not a JSON object' };
  for (const field of ['id', 'name', 'ip'] as const) if (typeof parsed[field] !== 'string') return { problem: `"${field}" is not a string` };
  if (typeof parsed.port !== 'number' || !Number.isFinite(parsed.port)) return { problem: '"port" is not a number' };
  if (!Array.isArray(parsed.tags)) return { problem: '"tags" is not an array' };
  if (!isObject(parsed.attrs)) return { problem: '"attrs" is not an object' };
  if (!isObject(parsed.origin)) return { problem: '"origin" is not an object' };
  return { service: parsed as unknown as Service };
}
