import { redactCredentials } from './redact';

/** Raised for any invalid configuration; the CLI prints its message on one line and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    // One line even when it echoes a control character; a URI named in it keeps no password.
    super(
      redactCredentials(message.replace(/\s*\n\s*/g, '; ')).replace(
        // eslint-disable-next-line no-control-regex -- control characters are what it escapes
        /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      ),
    );
  }
}
