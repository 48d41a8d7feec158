import { ConfigError } from '../config-error';
import { loadConfig, type Config } from '../config/load';
import { checkWritersAvailable } from '../writers-available';
import type { OpsCommand } from './commands';

export { type OpsCommand } from './commands';

/** Bad usage, as for the daemon. */
export const EXIT_USAGE = 2;

/** Where a command reads its environment and writes its output (the process's own by default). */
export interface OpsIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTty: boolean;
}

export const processIo = (): OpsIo => ({
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  isTty: Boolean(process.stdout.isTTY),
});

/** A validated operator command line. */
export interface OpsInvocation {
  command: OpsCommand;
  /** `--json`: one JSON document on stdout instead of tables. */
  json: boolean;
  /** `check --fix`: delete what the check finds, each finding only while it is as it was found. */
  fix: boolean;
  /** `explain <container>`: the container's name or ID. */
  container?: string;
  /** The daemon's configuration, read exactly as the daemon reads it (flags, env, config file). */
  config: Config;
}

export type OpsParse = { kind: 'run'; invocation: OpsInvocation } | { kind: 'help' | 'version'; text: string };

const JSON_FLAGS = new Set(['--json', '-json']);
/** Only `check` takes them; to the others they are unknown options. */
const FIX_FLAGS = new Set(['--fix', '-fix']);

const USAGE: Record<OpsCommand, string> = {
  ls: `usage: registrator ls [--host H] [--json] [options] [registry-uri ...]

Lists what a host holds in etcd: its mirror entries (containers/, hosts/, labels/ under /<etcd-dir>/)
and, for each hamesh://, etcd:// or skydns2:// URI given, the services it owns there (from its
ownership records). Read-only: it writes nothing and needs no Docker access.

  --host H       the host to list (default: the configured host, EC_REGISTRATOR_HOST, else the OS hostname)
  --json         one JSON document instead of tables (shape: docs/operations.md)
  --no-mirror    leave the mirror out

Every daemon option and EC_REGISTRATOR_* variable is read as the daemon reads it (etcd endpoints,
TLS, auth, -etcd-dir, URIs from EC_REGISTRATOR_URIS); see registrator --help.
consul*:// and netfilter:// URIs are named as not covered.
Exit status: 0 listed, 1 etcd could not be read, 2 bad usage.`,
  diff: `usage: registrator diff [--json] [options] [registry-uri ...]

Shows what the daemon's next reconciliation would write and delete, without writing anything: reads
Docker (list and inspect) and etcd, and prints for each writer (the mirror, and each hamesh://,
etcd:// or skydns2:// URI) the services it would register or deregister and the keys it would put
and delete. Give it the options the daemon runs with (-host, -ip, -internal, -tags, -explicit, ...).

  --json         one JSON document instead of text (shape: docs/operations.md)

Every daemon option and EC_REGISTRATOR_* variable is read as the daemon reads it; see registrator --help.
consul*:// and netfilter:// URIs are named as not covered.
Exit status: 0 nothing to change, 1 changes, 2 bad usage or etcd or Docker could not be read.`,
  check: `usage: registrator check [--fix] [--json] [options] [registry-uri ...]

Checks the whole fleet's data in etcd for keys the rest contradicts: labels/ and hosts/ index keys
that point at no entry or at an entry that disagrees, entries without a host or without their hosts/
key, and ownership records (/_registrator/owners/) whose data is gone, for the mirror and for each
hamesh://, etcd:// or skydns2:// URI given. Reads every key under /<etcd-dir>/ and
/_registrator/owners/, in pages, at one etcd revision. Never touches Docker.

  --fix          delete what was found, each finding in one etcd transaction that goes ahead only
                 while every key it was judged on is unchanged since the check's revision
  --json         one JSON document instead of text (shape: docs/operations.md)
  --no-mirror    leave the mirror out

Every daemon option and EC_REGISTRATOR_* variable is read as the daemon reads it (etcd endpoints,
TLS, auth, -etcd-dir, URIs from EC_REGISTRATOR_URIS); see registrator --help.
consul*:// and netfilter:// URIs are named as not checked.
Exit status: 0 nothing found, 1 findings (fixed or not), 2 bad usage or etcd could not be read.`,
  explain: `usage: registrator explain <container> [--json] [options] [registry-uri ...]

Explains one container (name or ID) on this host's engine: for the mirror and each registry URI,
what the daemon would write for it and, for everything left out, why (SERVICE_IGNORE, -explicit,
ports not published, health, networks, metadata, the host name claimed by another daemon, sizes).
Uses the daemon's own planners; reads Docker (inspect) and etcd, writes nothing. Give it the
options the daemon runs with (-host, -ip, -internal, -tags, -explicit, ...).

  --json         one JSON document instead of text (shape: docs/operations.md)

Every daemon option and EC_REGISTRATOR_* variable is read as the daemon reads it; see registrator --help.
For consul*:// and netfilter:// URIs it says which services the daemon would register there.
Exit status: 0 explained, 1 no such container, 2 bad usage or etcd or Docker could not be read.`,
};

export function opsUsage(command: OpsCommand): string {
  return USAGE[command];
}

/**
 * Reads `registrator <command> [options] [uri ...]`: `--json` (and for `check`, `--fix`), then
 * everything else as the daemon's own command line. Throws ConfigError (exit 2, one line) on
 * anything invalid.
 */
export function parseOpsCommand(command: OpsCommand, argv: readonly string[], env: NodeJS.ProcessEnv, isTty: boolean): OpsParse {
  const own = (a: string) => JSON_FLAGS.has(a) || (command === 'check' && FIX_FLAGS.has(a));
  const json = argv.some((a) => JSON_FLAGS.has(a));
  const fix = command === 'check' && argv.some((a) => FIX_FLAGS.has(a));
  // `explain` takes the container first, before the daemon's options.
  const container = command === 'explain' && argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const loaded = loadConfig(
    (container === undefined ? argv : argv.slice(1)).filter((a) => !own(a)),
    env,
    isTty,
  );
  if (loaded.kind === 'help') return { kind: 'help', text: opsUsage(command) };
  if (loaded.kind === 'version') return loaded;
  if (command === 'explain' && container === undefined)
    throw new ConfigError('name the container to explain: registrator explain <container>');
  checkWritersAvailable(loaded.config);
  return { kind: 'run', invocation: { command, json, fix, ...(container !== undefined ? { container } : {}), config: loaded.config } };
}

/**
 * Reads the command line and answers what needs no etcd or Docker client itself: `--help` and
 * `--version` (exit 0) and bad usage (one line on stderr, exit 2). Returns the exit status, or the
 * invocation to run.
 */
export function prepareOpsCommand(command: OpsCommand, argv: readonly string[], io: OpsIo): OpsInvocation | number {
  let parsed;
  try {
    parsed = parseOpsCommand(command, argv, io.env, io.isTty);
  } catch (err) {
    io.stderr.write(`registrator ${command}: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    return EXIT_USAGE;
  }
  if (parsed.kind !== 'run') {
    io.stdout.write(`${parsed.text}\n`);
    return 0;
  }
  return parsed.invocation;
}
