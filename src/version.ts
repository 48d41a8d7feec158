import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version in the project's package.json, from src/ or dist/src/. */
export function packageVersion(): string {
  for (const candidate of [join(__dirname, '../package.json'), join(__dirname, '../../package.json')]) {
    if (existsSync(candidate)) return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
