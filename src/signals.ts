import nodeCleanup from 'node-cleanup';
import type { Logger } from './log';

/** What the signals act on (the Daemon, or anything shaped like it in tests). */
export interface SignalTarget {
  /** SIGHUP: reconcile this host's data with the running containers. */
  reconcile(reason: string): Promise<void>;
  /** SIGUSR2: delete every host's data, then write this host's again. */
  purgeAndRefill(): Promise<void>;
  /** SIGINT/SIGQUIT (keep data) and SIGTERM (delete this host's data); abandons a reconciliation under way. */
  stop(deleteHostData: boolean): Promise<void>;
}

/** A stop that did not finish within its limit (SignalOptions.stopLimitMs). */
class StopOverdueError extends Error {
  constructor(limitMs: number) {
    super(`stop took longer than ${limitMs} ms`);
    this.name = 'StopOverdueError';
  }
}

export interface SignalOptions {
  /** Called with the exit status once shutdown work is done (default: process.exit). */
  exit?: (code: number) => void;
  /**
   * Longest a stop may take before the process exits regardless, keeping data (SIGINT: 1.8 s, so it
   * is out within 2 s) and deleting it (SIGTERM: 9.5 s, under `docker stop`'s 10 s; the daemon's own
   * deadline for the deletion is 8 s). A safety net: the daemon's stop has deadlines of its own.
   */
  stopLimitMs?: { keep: number; delete: number };
}

/**
 * The signals of docs/mirror.md: SIGINT/SIGQUIT stop and keep data (exit 0); SIGTERM stops and
 * deletes this host's data (exit 0, or 1 if that failed); SIGUSR2 purges and refills; SIGHUP
 * reconciles. SIGHUP and SIGUSR2 work runs after the previous signal's work, never interleaved; a
 * stop signal does not wait for it but abandons it (the daemon's stop). A second SIGINT/SIGTERM
 * during shutdown exits at once with status 1.
 */
export function installSignalHandlers(target: SignalTarget, log: Logger, options: SignalOptions = {}): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let chain: Promise<void> = Promise.resolve();
  let shuttingDown = false;
  const enqueue = (signal: string, work: () => Promise<void>) => {
    chain = chain.then(async () => {
      log.info('handling signal', { signal });
      try {
        await work();
        log.info('signal handled', { signal });
      } catch (err) {
        // A stop signal abandons the work under way: not a failure.
        if (shuttingDown) log.info('signal work abandoned: stopping', { signal });
        else log.error('signal work failed', { signal, err });
      }
    });
  };

  // node-cleanup owns SIGINT/SIGTERM/SIGQUIT/SIGHUP; returning false keeps the process alive (and,
  // for SIGHUP, keeps node-cleanup installed) so the async work decides when to exit.
  nodeCleanup(
    (_exitCode, signal) => {
      // Called at exit too (signal null, or undefined from the process's own exit event): nothing to do then.
      if (!signal) return true;
      if (signal === 'SIGHUP') {
        if (!shuttingDown) enqueue('SIGHUP', () => target.reconcile('SIGHUP'));
        return false;
      }
      if (shuttingDown) {
        log.warn('second stop signal during shutdown: exiting now', { signal });
        nodeCleanup.uninstall();
        exit(1);
        return false;
      }
      shuttingDown = true;
      const deleteHostData = signal === 'SIGTERM';
      log.info(deleteHostData ? "stopping; deleting this host's data" : 'stopping; keeping data', { signal });
      // Not queued behind a SIGHUP or SIGUSR2 still at work: stopping abandons that work. The process
      // is held open meanwhile: once the daemon has closed its streams nothing else would, and it must
      // exit with the status the stop decides, not end on its own.
      const holdOpen = setInterval(() => undefined, 60_000);
      const limits = options.stopLimitMs ?? { keep: 1_800, delete: 9_500 };
      const limitMs = deleteHostData ? limits.delete : limits.keep;
      void (async () => {
        let code = 0;
        let timer: NodeJS.Timeout | undefined;
        const overdue = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StopOverdueError(limitMs)), limitMs);
        });
        try {
          await Promise.race([target.stop(deleteHostData), overdue]);
        } catch (err) {
          // Keeping the data, there was nothing to lose: an overdue stop still exits 0.
          if (deleteHostData || !(err instanceof StopOverdueError)) {
            log.error('shutdown incomplete', { signal, err });
            code = 1;
          } else log.warn('stopping took too long; exiting anyway', { signal, err });
        } finally {
          clearTimeout(timer);
        }
        nodeCleanup.uninstall();
        clearInterval(holdOpen);
        exit(code);
      })();
      return false;
    },
    { ctrl_C: '', uncaughtException: '' },
  );

  process.on('SIGUSR2', () => {
    if (!shuttingDown) enqueue('SIGUSR2', () => target.purgeAndRefill());
  });
}
