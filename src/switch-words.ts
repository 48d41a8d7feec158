/**
 * The one reading of on/off words, for env vars, config files, `-flag=value` and service attributes
 * alike: true/1/yes/on, false/0/no/off (any case, trimmed); undefined for anything else.
 */
export function parseSwitch(word: string): boolean | undefined {
  const w = word.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(w)) return true;
  if (['false', '0', 'no', 'off'].includes(w)) return false;
  return undefined;
}
