/**
 * The rule for one segment of an etcd or Consul key: a service name, a service ID, a host name.
 * A segment that broke it would read back, by the documented layouts, as another name, another ID
 * or a key outside its prefix (`team/web`, `..`).
 */

/** Whether `value` holds a control character: U+0000 to U+001F or U+007F. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Why `value` cannot be one key segment, or undefined when it can. */
export function segmentProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return `is "${value}"`;
  if (value.includes('/')) return 'contains "/"';
  if (hasControl(value)) return 'contains a control character';
  return undefined;
}
