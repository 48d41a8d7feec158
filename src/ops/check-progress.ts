/** How often at most the progress line is redrawn. */
export const PROGRESS_INTERVAL_MS = 250;

/** A stream the progress line may be drawn on: a terminal (tty.WriteStream), or one that says it is. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Its width; the line is cut to fit so that `\r` rewrites it in place. */
  columns?: number;
}

/** What `registrator check` tells of its work as it goes (docs/operations.md, "Progress"). */
export interface CheckProgress {
  /** A pass over `prefix` in the etcd `etcd` begins. */
  pass(etcd: string, prefix: string): void;
  /** One page of that pass was read and its `keys` judged. */
  page(keys: number): void;
  /** The check is over (done or failed): the line is cleared. */
  end(): void;
}

/** Reports nothing: stderr is not a terminal. */
const SILENT: CheckProgress = { pass() {}, page() {}, end() {} };

const count = (n: number) => n.toLocaleString('en-US');

/**
 * The progress of a check on one line of `stream`, when it is a terminal: pages read and keys judged
 * so far, and the prefix being read. Redrawn in place (`\r`, then erase to the end of the line) at
 * most every PROGRESS_INTERVAL_MS, and only when something changed; cleared by `end`. On anything that
 * is not a terminal (a pipe, a file, CI's log) it writes nothing at all.
 */
export function checkProgress(stream: ProgressStream): CheckProgress {
  if (stream.isTTY !== true) return SILENT;
  let pages = 0;
  let keys = 0;
  let where = '';
  let shown = '';
  let drawn = false;
  const line = () => `registrator check: ${count(pages)} pages read, ${count(keys)} keys judged (${where})`;
  const draw = () => {
    // Nothing to tell while the check is still connecting and finding the revision.
    if (where === '') return;
    const text = line();
    if (text === shown) return;
    shown = text;
    drawn = true;
    const width = (stream.columns ?? 0) - 1;
    stream.write(`\r${width > 0 && text.length > width ? text.slice(0, width) : text}\x1b[K`);
  };
  // A timer, not a clock read per page: a slow page still gets the numbers before it drawn.
  const timer = setInterval(draw, PROGRESS_INTERVAL_MS);
  timer.unref();
  return {
    pass(etcd, prefix) {
      where = `${prefix} in etcd ${etcd}`;
    },
    page(n) {
      pages++;
      keys += n;
    },
    end() {
      clearInterval(timer);
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
