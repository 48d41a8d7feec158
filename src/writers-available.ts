import { ConfigError } from './config-error';
import type { Config } from './config/load';
import { isBackendAvailable } from './registrator/schemes';

/** Fails (as a configuration error, before anything is written) on URIs this build has no writer for. */
export function checkWritersAvailable(config: Config): void {
  for (const uri of config.uris) {
    if (!isBackendAvailable(uri.scheme)) {
      throw new ConfigError(`registry backend "${uri.scheme}://" is not available in this version (${uri.raw})`);
    }
  }
  if (!config.mirror && config.uris.length === 0) {
    throw new ConfigError('nothing to do: the mirror is off (--no-mirror) and no registry URI was given');
  }
}
