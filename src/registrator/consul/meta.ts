import type { Service } from '../service';
import { serviceOfRecord } from '../service-record';
import type { AttrWarning } from './checks';

/**
 * Service attrs -> Consul service `Meta` (pure).
 *
 * Every attr goes to Meta except:
 * - `check_*` keys: they configure the checks (checks.ts), as in gliderlabs;
 * - `registrator_*` keys: reserved for the ownership marker (below); left out with a warning;
 * - keys Consul refuses (not `^[A-Za-z0-9_-]+$`, longer than 128 characters, starting with
 *   `consul-`) and values longer than 512 bytes: left out with a warning, instead of Consul refusing
 *   the whole registration;
 * - pairs past Consul's 64 per service (counting the ownership marker): left out with a warning,
 *   keys kept in sorted order.
 *
 * The ownership marker: `registrator_host` = the daemon's host name, and the service as registered
 * (JSON, non-ASCII escaped) split over `registrator_service_0`, `registrator_service_1`, ... at 512
 * characters each, so the daemon can tell its own registrations (custom IDs included) after a restart
 * and get back the exact service it registered.
 */

const META_MAX_PAIRS = 64;
const META_KEY_MAX_LENGTH = 128;
const META_VALUE_MAX_BYTES = 512;
const META_KEY_FORMAT = /^[A-Za-z0-9_-]+$/;

export const OWNER_HOST_KEY = 'registrator_host';
const OWNER_SERVICE_KEY_PREFIX = 'registrator_service_';
/** Meta pairs the marker may take at most (16 KiB of service JSON), leaving room for attrs. */
export const OWNER_MAX_CHUNKS = 32;

export interface MetaResult {
  meta: Record<string, string>;
  warnings: AttrWarning[];
}

/** Why Consul would refuse this Meta pair, or undefined when it takes it. */
function metaPairProblem(key: string, value: string): string | undefined {
  if (key === '') return 'an empty key is not allowed';
  if (!META_KEY_FORMAT.test(key)) return 'Consul meta keys may only hold letters, digits, "_" and "-"';
  if (key.length > META_KEY_MAX_LENGTH) return `Consul meta keys are at most ${META_KEY_MAX_LENGTH} characters`;
  if (key.startsWith('consul-')) return 'Consul reserves meta keys starting with "consul-"';
  if (Buffer.byteLength(value, 'utf8') > META_VALUE_MAX_BYTES) return `Consul meta values are at most ${META_VALUE_MAX_BYTES} bytes`;
  return undefined;
}

/** The attrs Consul can take as Meta, with at most `room` pairs. */
export function attrsToMeta(attrs: Record<string, string>, room = META_MAX_PAIRS): MetaResult {
  const meta: Record<string, string> = {};
  const warnings: AttrWarning[] = [];
  let used = 0;
  for (const key of Object.keys(attrs).sort()) {
    if (key.startsWith('check_')) continue;
    const value = attrs[key];
    if (key.startsWith('registrator_')) {
      warnings.push({ key, reason: 'meta keys starting with "registrator_" are reserved for the ownership marker; left out of Meta' });
      continue;
    }
    const problem = metaPairProblem(key, value);
    if (problem) {
      warnings.push({ key, reason: `${problem}; left out of Meta` });
      continue;
    }
    if (used >= room) {
      warnings.push({
        key,
        reason: `Consul takes at most ${META_MAX_PAIRS} meta pairs per service (the ownership marker included); left out of Meta`,
      });
      continue;
    }
    meta[key] = value;
    used++;
  }
  return { meta, warnings };
}

/** The service as JSON in pieces that fit Meta values; pure ASCII, so characters and bytes agree. */
export function serviceRecordChunks(service: Service): string[] {
  const json = JSON.stringify(service).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const chunks: string[] = [];
  for (let i = 0; i < json.length; i += META_VALUE_MAX_BYTES) chunks.push(json.slice(i, i + META_VALUE_MAX_BYTES));
  return chunks;
}

/** The ownership marker pairs for one service. */
export function ownerMeta(host: string, service: Service): Record<string, string> {
  const meta: Record<string, string> = { [OWNER_HOST_KEY]: host };
  serviceRecordChunks(service).forEach((chunk, i) => (meta[`${OWNER_SERVICE_KEY_PREFIX}${i}`] = chunk));
  return meta;
}

/** The service a marker holds, or undefined when the pieces are missing or not a service. */
export function serviceFromMeta(meta: Record<string, string> | null | undefined): Service | undefined {
  if (!meta) return undefined;
  let json = '';
  for (let i = 0; meta[`${OWNER_SERVICE_KEY_PREFIX}${i}`] !== undefined; i++) json += meta[`${OWNER_SERVICE_KEY_PREFIX}${i}`];
  if (json === '') return undefined;
  return serviceOfRecord(json);
}

/** Meta for one registration: the attrs that fit, then the ownership marker. */
export function serviceMeta(host: string, service: Service): MetaResult {
  const owner = ownerMeta(host, service);
  const fromAttrs = attrsToMeta(service.attrs, META_MAX_PAIRS - Object.keys(owner).length);
  return { meta: { ...fromAttrs.meta, ...owner }, warnings: fromAttrs.warnings };
}
