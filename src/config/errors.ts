/** Raised for any invalid configuration; the CLI prints its message on one line and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, '; '));
  }
}
