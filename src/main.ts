import { ConfigError } from './config-error';
import { parseArgv, usage } from './config/argv';
import type { Config } from './config/load';
import { isOpsCommand } from './ops/commands';
import { packageVersion } from './version';

/** Exit status for bad configuration, as for a bad flag. */
const EXIT_USAGE = 2;

function exitOnConfigError(err: unknown): never {
  const message = err instanceof ConfigError ? err.message : `cannot start: ${(err as Error).message}`;
  process.stderr.write(`registrator: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/**
 * `registrator [options] [registry-uri ...]` runs the daemon; `registrator ls|diff|check|explain ...` the
 * operator commands. Each step loads only what it needs: `--help`, `--version` and an unknown option
 * load no package, a bad configuration loads convict but neither the logger nor a client library,
 * and `ls` and `check` never load the Docker client.
 */
export async function main(argv: readonly string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (isOpsCommand(first)) {
    // Parsed (and --help, --version and bad usage answered) before the etcd client is loaded.
    const { prepareOpsCommand, processIo } = await import('./ops/invocation');
    const prepared = prepareOpsCommand(first, rest, processIo());
    if (typeof prepared === 'number') {
      process.exitCode = prepared;
      return;
    }
    try {
      const { runOpsInvocation } = await import('./ops/run');
      process.exitCode = await runOpsInvocation(prepared);
    } catch (err) {
      process.stderr.write(`registrator ${first}: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
    return;
  }
  let config: Config;
  try {
    const parsed = parseArgv(argv);
    if (parsed.help || parsed.version) {
      process.stdout.write(`${parsed.help ? usage() : packageVersion()}\n`);
      return;
    }
    const [{ loadConfig }, { checkWritersAvailable }] = await Promise.all([import('./config/load'), import('./writers-available')]);
    const result = loadConfig(argv, process.env, Boolean(process.stdout.isTTY));
    if (result.kind !== 'run') {
      process.stdout.write(`${result.text}\n`);
      return;
    }
    config = result.config;
    checkWritersAvailable(config);
  } catch (err) {
    exitOnConfigError(err);
  }
  const { createLogger } = await import('./log');
  const log = createLogger(config.log);
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { err: reason }));
  try {
    const { runDaemon } = await import('./app');
    await runDaemon(config, log);
  } catch (err) {
    if (err instanceof ConfigError) exitOnConfigError(err);
    log.error('start failed', { err });
    process.exit(1);
  }
}
