/**
 * The rule for one segment of an etcd or Consul key: a service name, a service ID, a host name.
 * A segment that broke it would read back, by the documented layouts, as another name, another ID
 * or a key outside its prefix (`team/web`, `..`).
 */

/** Control characters: U+0000 to U+001F and U+007F. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `value` cannot be one key segment, or undefined when it can. */
export function segmentProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return `is "${value}"`;
  if (value.includes('/')) return 'contains "/"';
  if (CONTROL.test(value)) return 'contains a control character';
  return undefined;
}
