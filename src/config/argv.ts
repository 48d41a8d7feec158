import { parseSwitch } from '../switch-words';
import { ConfigError } from '../config-error';
import { schema } from './options';

/** The command line, split into option values by schema key and the rest. */
export interface ParsedArgv {
  /**
   * Option values by schema key (`ttlRefresh`, `etcd.hosts`), in command-line order, exactly as
   * typed. They are set on the config directly: convict's own argv parsing (yargs-parser) would
   * turn `-tags 1e3` into "1000" and `-host 0x10` into "16".
   */
  settings: Array<[key: string, value: string]>;
  /** Positional registry URIs, in order. */
  uris: string[];
  configFile?: string;
  help: boolean;
  version: boolean;
}

interface FlagSpec {
  /** convict `arg` name, e.g. `ttl-refresh`. */
  arg: string;
  /** Schema key, e.g. `ttlRefresh`, `etcd.hosts`. */
  key: string;
  boolean: boolean;
}

type SchemaNode = { [key: string]: unknown };

function collectFlags(node: SchemaNode, out: Map<string, FlagSpec>, path = ''): Map<string, FlagSpec> {
  for (const [name, value] of Object.entries(node)) {
    if (typeof value !== 'object' || value === null) continue;
    const entry = value as SchemaNode;
    if ('default' in entry) {
      if (typeof entry.arg === 'string') out.set(entry.arg, { arg: entry.arg, key: `${path}${name}`, boolean: entry.format === 'switch' });
    } else {
      collectFlags(entry, out, `${path}${name}.`);
    }
  }
  return out;
}

const FLAGS = collectFlags(schema as unknown as SchemaNode, new Map());

/** `useIpFromLabel` -> `use-ip-from-label`, `ttl_refresh` -> `ttl-refresh`, so every gliderlabs spelling works. */
function canonicalName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/**
 * Parses gliderlabs-style (`-ttl 30`, `-internal`, `-ttl=30`) and long (`--ttl 30`, `--no-mirror`)
 * options, before or after the URIs. Unknown options and missing values are ConfigErrors.
 */
export function parseArgv(argv: readonly string[]): ParsedArgv {
  const parsed: ParsedArgv = { settings: [], uris: [], help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      parsed.uris.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      parsed.uris.push(token);
      continue;
    }
    const body = token.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const rawName = eq === -1 ? body : body.slice(0, eq);
    const inlineValue = eq === -1 ? undefined : body.slice(eq + 1);
    const name = canonicalName(rawName);

    if (name === 'help' || name === 'h') {
      parsed.help = true;
      continue;
    }
    if (name === 'version' || name === 'v') {
      parsed.version = true;
      continue;
    }
    const takeValue = (): string => {
      if (inlineValue !== undefined) return inlineValue;
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`option ${token} needs a value`);
      i++;
      return next;
    };
    if (name === 'config') {
      parsed.configFile = takeValue();
      continue;
    }
    const negated = name.startsWith('no-') && FLAGS.get(name.slice(3))?.boolean === true;
    const spec = FLAGS.get(negated ? name.slice(3) : name);
    if (!spec) throw new ConfigError(`unknown option ${token} (see --help)`);
    if (spec.boolean) {
      let value = true;
      if (inlineValue !== undefined) {
        const word = parseSwitch(inlineValue);
        if (word === undefined) throw new ConfigError(`option ${token}: "${inlineValue}" is not true or false (also 1/0, yes/no, on/off)`);
        value = word;
      }
      parsed.settings.push([spec.key, String(negated ? !value : value)]);
    } else {
      parsed.settings.push([spec.key, takeValue()]);
    }
  }
  return parsed;
}

/** The flag and env var that set a schema key, for error messages and --help. */
export function describeKey(key: string): string {
  let node: unknown = schema;
  for (const part of key.split('.')) node = (node as SchemaNode | undefined)?.[part];
  const entry = node as { arg?: string; env?: string } | undefined;
  const names = [entry?.arg ? `-${entry.arg}` : undefined, entry?.env].filter(Boolean);
  return names.length ? `${key} (${names.join(' / ')})` : key;
}

export function usage(): string {
  const lines = [
    'usage: registrator [options] [registry-uri ...]',
    '',
    'options (single or double dash; every option also reads EC_REGISTRATOR_<NAME>):',
  ];
  const walk = (node: SchemaNode) => {
    for (const value of Object.values(node)) {
      if (typeof value !== 'object' || value === null) continue;
      const entry = value as SchemaNode & { doc?: string; arg?: string; env?: string; format?: unknown };
      if (!('default' in entry)) {
        walk(entry);
        continue;
      }
      const flag = entry.arg ? `--${entry.arg}${entry.format === 'switch' ? '' : ' VALUE'}` : '[uri ...]';
      lines.push(`  ${flag.padEnd(28)} ${entry.doc ?? ''} [${entry.env}]`);
    }
  };
  walk(schema as unknown as SchemaNode);
  lines.push(`  ${'--config FILE'.padEnd(28)} JSON config file [EC_REGISTRATOR_CONFIG]`);
  lines.push(`  ${'--help, --version'.padEnd(28)} print this help or the version`);
  return lines.join('\n');
}
