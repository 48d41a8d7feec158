import type { OwnContainerFacts } from '../docker/engine-info';

/** Where the host name this daemon files its data under came from (logged at start). */
type HostNameSource = 'EC_REGISTRATOR_HOST' | 'os-hostname' | 'engine-name';

export interface ChosenHostName {
  host: string;
  source: HostNameSource;
}

/**
 * The host name when none is configured. In a container started without `-h` the OS hostname is
 * the container's own short ID: every recreate of the container would file its data under a new
 * name and leave the old name's data behind. Then the engine's name (`GET /info` `Name`) is the
 * host's, and stable. `own` is the engine's container whose ID the OS hostname is, if any.
 */
export function defaultHostName(osHostname: string, own: OwnContainerFacts | undefined, engineName: string): ChosenHostName {
  const isOwnId = own !== undefined && own.id.startsWith(osHostname) && own.hostname === osHostname;
  if (isOwnId && engineName !== '') return { host: engineName, source: 'engine-name' };
  return { host: osHostname, source: 'os-hostname' };
}
