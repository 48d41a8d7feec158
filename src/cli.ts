#!/usr/bin/env node
import { ConfigError } from './config-error';
import { loadConfig } from './config/load';
import { createLogger } from './log';
import { isOpsCommand } from './ops/invocation';
import { checkWritersAvailable } from './writers-available';

/** Exit status for bad configuration, as for a bad flag. */
const EXIT_USAGE = 2;

function main(): void {
  // `registrator ls|diff ...`: read-only operator commands; anything else runs the daemon.
  const [first, ...rest] = process.argv.slice(2);
  if (isOpsCommand(first)) {
    // The operator commands load neither the daemon nor the modules only it uses.
    import('./ops/run')
      .then(({ runOpsCommand }) => runOpsCommand(first, rest))
      .then(
        (code) => (process.exitCode = code),
        (err: Error) => {
          process.stderr.write(`registrator ${first}: ${err.message}\n`);
          process.exitCode = 1;
        },
      );
    return;
  }
  let result;
  try {
    result = loadConfig(process.argv.slice(2), process.env, Boolean(process.stdout.isTTY));
    if (result.kind === 'run') checkWritersAvailable(result.config);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `cannot start: ${(err as Error).message}`;
    process.stderr.write(`registrator: ${message}\n`);
    process.exit(EXIT_USAGE);
  }
  if (result.kind !== 'run') {
    process.stdout.write(`${result.text}\n`);
    return;
  }
  const log = createLogger(result.config.log);
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { err: reason }));
  import('./app')
    .then(({ runDaemon }) => runDaemon(result.config, log))
    .catch((err) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`registrator: ${err.message}\n`);
        process.exit(EXIT_USAGE);
      }
      log.error('start failed', { err });
      process.exit(1);
    });
}

main();
