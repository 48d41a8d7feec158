/**
 * The rule for one segment of an etcd or Consul key: a service name, a service ID, a host name.
 * A segment that broke it would read back, by the documented layouts, as another name, another ID
 * or a key outside its prefix (`team/web`, `..`).
 */

/** The first control character in `value` (U+0000 to U+001F or U+007F) as `U+000A`, or undefined. */
function firstControl(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return undefined;
}

/** Why `value` cannot be one key segment, or undefined when it can. */
export function segmentProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return `is "${value}"`;
  if (value.includes('/')) return 'contains "/"';
  const control = firstControl(value);
  return control === undefined ? undefined : `contains a control character (${control})`;
}

/** Why `value` cannot be a host name (one key segment, and no whitespace: it is also a log and DNS-like name), or undefined. */
export function hostNameProblem(value: string): string | undefined {
  return segmentProblem(value) ?? (/\s/.test(value) ? 'contains whitespace' : undefined);
}
