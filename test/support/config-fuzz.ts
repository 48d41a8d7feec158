import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_ALIASES, schema } from '../../src/config/schema';

/** mulberry32: a small seeded PRNG, so a failing combination can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type SchemaNode = { [key: string]: unknown };

/** Every flag name and env var the schema declares, read from it so new options are fuzzed too. */
interface Flag {
  arg: string;
  boolean: boolean;
  /** convict format: a registered name, a list of allowed values, or a constructor. */
  format: unknown;
}

function declared(node: SchemaNode, flags: Flag[], envs: string[]): void {
  for (const value of Object.values(node)) {
    if (typeof value !== 'object' || value === null) continue;
    const entry = value as SchemaNode;
    if (!('default' in entry)) {
      declared(entry, flags, envs);
      continue;
    }
    if (typeof entry.arg === 'string') flags.push({ arg: entry.arg, boolean: entry.format === 'switch', format: entry.format });
    if (typeof entry.env === 'string') envs.push(entry.env);
  }
}

const flags: Flag[] = [];
const schemaEnvs: string[] = [];
declared(schema as unknown as SchemaNode, flags, schemaEnvs);

/** Env names loadConfig reads besides the schema's. */
export const ENV_NAMES = [
  ...schemaEnvs,
  ...Object.keys(ENV_ALIASES),
  'EC_REGISTRATOR_CONFIG',
  'DOCKER_HOST',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CERT_PATH',
  'CONSUL_HTTP_ADDR',
  'CONSUL_HTTP_TOKEN',
];

/** Flag spellings: the schema's, gliderlabs' camelCase and snake_case forms, negations, and some that do not exist. */
export const FLAG_NAMES = [
  ...flags.map((f) => f.arg),
  ...flags.filter((f) => f.boolean).map((f) => `no-${f.arg}`),
  'useIpFromLabel',
  'ttl_refresh',
  'retryAttempts',
  'config',
  'help',
  'version',
  'h',
  'v',
  'bogus',
  '',
  'no-',
  'no-ttl',
  '__proto__',
  'constructor',
  'toString',
];

/** Config files of every kind a user could point at; made once per run. */
export function configFiles(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sr-fuzz-'));
  const file = (name: string, content: string): string => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  mkdirSync(join(dir, 'a-directory'));
  return [
    file('good.json', JSON.stringify({ host: 'fuzz-host', resync: 5, etcd: { dir: 'fuzz' } })),
    file('unknown-key.json', JSON.stringify({ nope: 1 })),
    file('bad-type.json', JSON.stringify({ ttl: 'abc', internal: 'maybe', uris: 7 })),
    file('array.json', '[1,2]'),
    file('null.json', 'null'),
    file('broken.json', '{"host": '),
    file('proto.json', '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'),
    file('empty.json', ''),
    file('bom.json', '\ufeff{"host":"x"}'),
    join(dir, 'a-directory'),
    join(dir, 'missing.json'),
  ];
}

/** Values that are odd somewhere: empty, unicode, huge, negative, `=`, numbers in odd spellings, URIs good and bad. */
export const ODD_VALUES = [
  '',
  ' ',
  '  padded  ',
  'ü',
  '日本語',
  '👩‍💻',
  '\t',
  'line\nbreak',
  'carriage\rreturn',
  'x'.repeat(100_000),
  'a'.repeat(300),
  '-1',
  '0',
  '1',
  '2',
  '5',
  '30',
  '2147483',
  '2147484',
  '2147483647',
  '2147483648',
  '65535',
  '65536',
  '99999999999999999999',
  '1e3',
  '0x10',
  '1.5',
  'NaN',
  'Infinity',
  '-0',
  '+5',
  '007',
  'true',
  'false',
  'on',
  'off',
  'yes',
  'no',
  'TRUE',
  'maybe',
  '=',
  'a=b',
  '==',
  'k=v=w',
  ',',
  'a,b,,c',
  '\\,',
  '-',
  '--',
  '-ttl',
  '--help',
  'always',
  'on-success',
  'never',
  'debug',
  'error',
  'json',
  'pretty',
  'xml',
  '10.0.0.1',
  '::1',
  '::ffff:10.0.0.1',
  '999.1.1.1',
  'fe80::1%eth0',
  'hamesh:///services',
  'hamesh://',
  'hamesh://127.0.0.1:1/svc',
  'etcd:///services',
  'etcd://127.0.0.1:1/x',
  'etcd://h:99999/x',
  'skydns2:///skydns.local',
  'skydns2://',
  'consul://',
  'consul://127.0.0.1:1',
  'consul-tls://127.0.0.1:1',
  'consul-unix:///tmp/none.sock',
  'consulkv:///kv',
  'netfilter://',
  'netfilter://CHAIN/set',
  'bogus://x',
  'HAMESH:///UPPER',
  'hamesh:///a b',
  'http://[::1',
  '://',
  'hamesh:////',
  'localhost:2379',
  '127.0.0.1:1',
  'https://127.0.0.1:1',
  'http://127.0.0.1:1,https://127.0.0.1:2',
  'ftp://x',
  'http://h/path',
  '[::1]:1',
  'h:99999',
  'unix:///nonexistent/docker.sock',
  'unix://',
  'unix://relative.sock',
  'unix:///',
  'tcp://127.0.0.1:1',
  'tcp://',
  'tcp://h:99999',
  'tcp://h:0',
  'tcp://h:2376',
  'https://h',
  'tcp://[::1]:1',
  'tcp://h:1/path',
  'tcp://u:p@h:1',
  'ssh://user@h',
  'npipe:////./pipe/x',
  '/nonexistent/docker.sock',
  '/etc/passwd',
  '/dev/null',
  '/registry/',
  'a//b',
  'svc/mirror',
  '__proto__',
  'constructor',
  '{"a":1}',
  '[]',
  'null',
  '"quoted"',
  "'single'",
  '--',
  'a b',
];

/** Values each format accepts, for combinations that should mostly start; other formats get odd values. */
const VALID_BY_FORMAT: Record<string, string[]> = {
  switch: ['true', 'false', 'on', 'off'],
  'whole-number': ['0', '1', '30'],
  'retry-count': ['-1', '0', '3'],
  'optional-ip': ['127.0.0.1', '::1'],
  'host-name': ['fuzz-host', 'ünïcode-host'],
  'key-prefix': ['registry', 'svc/mirror'],
  'etcd-hosts': ['127.0.0.1:1', 'http://127.0.0.1:1,http://[::1]:2'],
  'docker-endpoint': ['unix:///nonexistent/docker.sock', 'tcp://127.0.0.1:1'],
  'optional-file': [''],
};

function validValue(rng: () => number, flag: Flag | undefined): string | undefined {
  if (!flag) return undefined;
  if (Array.isArray(flag.format)) return pick(rng, flag.format.map(String));
  if (flag.format === String) return pick(rng, ['a', 'a,b', 'label.ip']);
  const pool = typeof flag.format === 'string' ? VALID_BY_FORMAT[flag.format] : undefined;
  return pool ? pick(rng, pool) : undefined;
}

const VALID_URIS = [
  'hamesh:///services',
  'etcd:///services',
  'skydns2:///skydns.local',
  'hamesh://127.0.0.1:1/svc',
  'consulkv://127.0.0.1:1/kv',
];

export interface Combination {
  argv: string[];
  env: Record<string, string>;
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

/**
 * One random command line and environment: up to 8 argv tokens (flags in -x, --x, -x=v and -x v
 * forms, some missing their value; URIs; stray values) and up to 6 env vars. With `plausible`
 * (0-1), that share of values is one the option accepts, so more combinations get past validation.
 */
export function combination(rng: () => number, values: readonly string[], plausible = 0): Combination {
  const value = (flag?: Flag): string => (rng() < plausible ? validValue(rng, flag) : undefined) ?? pick(rng, values);
  const argv: string[] = [];
  const tokens = Math.floor(rng() * 9);
  for (let i = 0; i < tokens; i++) {
    const r = rng();
    if (r < 0.6) {
      const dash = rng() < 0.5 ? '-' : '--';
      const name = rng() < plausible ? pick(rng, flags).arg : pick(rng, FLAG_NAMES);
      const flag = flags.find((f) => f.arg === name);
      const form = rng();
      if (flag?.boolean && rng() < plausible) argv.push(`${dash}${name}`);
      else if (form < 0.35) argv.push(`${dash}${name}=${value(flag)}`);
      else if (form < 0.8) argv.push(`${dash}${name}`, value(flag));
      else argv.push(`${dash}${name}`);
    } else {
      argv.push(rng() < plausible ? pick(rng, VALID_URIS) : pick(rng, values));
    }
  }
  const env: Record<string, string> = {};
  const envCount = Math.floor(rng() * 7);
  for (let i = 0; i < envCount; i++) {
    const name = pick(rng, ENV_NAMES);
    env[name] = value(flags.find((f) => `EC_REGISTRATOR_${f.arg.replace(/-/g, '_').toUpperCase()}` === name));
  }
  return { argv, env };
}
