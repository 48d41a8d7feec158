import winston from 'winston';
import { isSecretName, REDACTED, redactCredentials } from './redact';

/**
 * winston format that keeps secrets out of every line: values of secret-looking fields are masked
 * (at any depth), and credentials inside text (URI passwords, `?token=`, PEM keys) are masked too,
 * the message and error texts included.
 */
const redact = winston.format((info) => {
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return redactCredentials(value);
    if (depth > 4 || typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) && v !== '' ? REDACTED : scrub(v, depth + 1);
    return out;
  };
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = key !== 'message' && isSecretName(key) && info[key] !== '' ? REDACTED : scrub(info[key], 0);
  }
  return info;
});

/** Errors become `{message, code}` so JSON lines stay one line and readable. */
const errorsAsText = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = info[key];
    if (v instanceof Error)
      info[key] = (v as NodeJS.ErrnoException).code ? `${v.message} (${(v as NodeJS.ErrnoException).code})` : v.message;
  }
  return info;
});

const pretty = winston.format.printf((info) => {
  const { level, message, timestamp, component, ...rest } = info as Record<string, unknown>;
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${timestamp} ${level} [${component ?? 'main'}] ${message}${extra}`;
});

export type Logger = winston.Logger;

export interface LogOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Every level to stderr: for commands whose stdout is their output (`registrator ls`, `diff`). */
  stderr?: boolean;
}

/** The root logger. Components take `logger.child({ component: 'writer.mirror' })`. */
export function createLogger(options: LogOptions): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(errorsAsText(), redact(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(errorsAsText(), redact(), winston.format.timestamp(), winston.format.colorize(), pretty);
  const logger = winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Console(options.stderr ? { stderrLevels: Object.keys(winston.config.npm.levels) } : {})],
  });
  dropBelowLevel(logger);
  return logger;
}

/**
 * winston formats every message (errors, redaction, timestamp, JSON) before its transport drops the
 * ones below the level, so a `debug` line per container cost as much as a written one. Each level's
 * method now returns at once when the level is off (winston's own isLevelEnabled, which follows a
 * change of `level` and the transports' levels); child loggers, made with Object.create, inherit it.
 */
function dropBelowLevel(logger: winston.Logger): void {
  const methods = logger as unknown as Record<string, (...args: unknown[]) => winston.Logger>;
  for (const level of Object.keys(logger.levels)) {
    const log = methods[level];
    methods[level] = function (this: winston.Logger, ...args: unknown[]) {
      const self = this ?? logger;
      return self.isLevelEnabled(level) ? log.apply(self, args) : self;
    };
  }
}
