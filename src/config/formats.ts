import convict from 'convict';
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { hostNameProblem } from '../key-segment';
import { parseSwitch } from '../switch-words';

/** A Docker object name as Docker accepts it. */
const DOCKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function requireString(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new Error('must be a string');
}

/** convict formats used by the schema; registered once, before the schema is built. */
export function registerFormats(): void {
  // `optional-ip` also takes '' (unset); `ip-address` must be an address.
  for (const [name, optional] of [
    ['optional-ip', true],
    ['ip-address', false],
  ] as const) {
    convict.addFormat({
      name,
      coerce: (v: unknown) => String(v).trim(),
      validate(value: unknown) {
        requireString(value);
        if (!(optional && value === '') && isIP(value) === 0) throw new Error('must be an IPv4 or IPv6 address');
      },
    });
  }
  convict.addFormat({
    name: 'optional-file',
    coerce: (v: unknown) => String(v),
    validate(value: unknown) {
      requireString(value);
      if (value === '') return;
      try {
        accessSync(value, constants.R_OK);
      } catch {
        throw new Error('file is missing or unreadable');
      }
    },
  });
  convict.addFormat({
    name: 'host-name',
    coerce: (v: unknown) => String(v).trim(),
    validate(value: unknown) {
      requireString(value);
      // One key segment of every layout it is filed under (key-segment.ts), and no whitespace; '' is unset (the OS hostname).
      if (value !== '' && hostNameProblem(value) !== undefined)
        throw new Error('must be one key segment: not "." or "..", no "/", whitespace or control character');
    },
  });
  convict.addFormat({
    name: 'network-name',
    coerce: (v: unknown) => String(v).trim(),
    validate(value: unknown) {
      requireString(value);
      // Docker's rule for names it makes (and IDs are hex): a letter or digit, then letters, digits, _ . -
      if (value !== '' && !DOCKER_NAME.test(value))
        throw new Error('must be a Docker network name or ID (a letter or digit, then letters, digits, "_", "." or "-")');
    },
  });
  convict.addFormat({
    name: 'key-prefix',
    coerce: (v: unknown) => String(v).replace(/^\/+|\/+$/g, ''),
    validate(value: unknown) {
      requireString(value);
      if (value === '' || /\/\/|\s/.test(value)) throw new Error('must be a non-empty key prefix such as "registry"');
    },
  });
  convict.addFormat({
    name: 'string-list',
    coerce: splitList,
    validate(value: unknown) {
      if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw new Error('must be a list of strings');
    },
  });
  convict.addFormat({
    name: 'etcd-hosts',
    coerce: splitList,
    validate(value: unknown) {
      if (!Array.isArray(value) || value.length === 0) throw new Error('must list at least one etcd endpoint');
      for (const host of value) {
        if (typeof host !== 'string') throw new Error('must be a list of host:port strings');
        const url = host.includes('://') ? host : `http://${host}`;
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw new Error(`"${host}" is not a host:port or http(s):// URL`);
        }
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`"${host}" must use http:// or https://`);
        // URL reads "/registry/" as http:///registry/, i.e. host "registry": the raw text must start with a host.
        if (!/^([a-z][a-z0-9+.-]*:\/\/)?[^/\s]+\/?$/i.test(host) || parsed.hostname === '')
          throw new Error(`"${host}" must be host:port or http(s)://host:port, without a path`);
      }
    },
  });
  convict.addFormat({
    name: 'docker-endpoint',
    coerce: (v: unknown) => String(v).trim(),
    validate(value: unknown) {
      requireString(value);
      if (value === '' || value.startsWith('/')) return;
      if (/^unix:\/\/\/.+/.test(value)) return;
      if (/^(tcp|http|https):\/\/[^/]+(:\d+)?\/?$/.test(value)) return;
      throw new Error('must be a socket path, unix:///path or tcp://host:port');
    },
  });
  convict.addFormat({
    name: 'switch',
    coerce: (v: unknown) => parseSwitch(String(v)) ?? v,
    validate(value: unknown) {
      if (typeof value !== 'boolean') throw new Error('must be true or false (also 1/0, yes/no, on/off)');
    },
  });
  convict.addFormat({
    name: 'whole-number',
    coerce: coerceInteger,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error('must be a whole number >= 0');
    },
  });
  convict.addFormat({
    name: 'port-number',
    coerce: coerceInteger,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 65535)
        throw new Error('must be a TCP port 0..65535 (0: off)');
    },
  });
  convict.addFormat({
    name: 'retry-count',
    coerce: coerceInteger,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1)
        throw new Error('must be a whole number >= -1 (-1 retries forever)');
    },
  });
}

/** A comma-separated list: items trimmed, empty ones dropped. */
function splitList(v: unknown): string[] {
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Strict integer parsing: "10abc" stays a string so validation names it, where parseInt would accept 10. */
function coerceInteger(v: unknown): unknown {
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v.trim());
  return v;
}
