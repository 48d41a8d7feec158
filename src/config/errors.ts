import { redactCredentials } from '../redact';

/** Raised for any invalid configuration; the CLI prints its message on one line and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    // The value named may be a URI with a password in it: the line still names it, without the secret.
    super(redactCredentials(message.replace(/\s*\n\s*/g, '; ')));
  }
}
