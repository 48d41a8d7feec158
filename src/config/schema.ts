import convict from 'convict';
import { registerFormats } from './formats';
import { schema } from './options';

registerFormats();

export { schema };

/** Env vars accepted as aliases of the canonical ones (the canonical one wins when both are set). */
export const ENV_ALIASES: Record<string, string> = {
  EC_ETCD_HOSTS: 'EC_REGISTRATOR_ETCD_HOSTS',
  EC_HOST: 'EC_REGISTRATOR_HOST',
};

export function createConfig(options: { env: NodeJS.ProcessEnv; args: string[] }) {
  return convict(schema, { env: options.env, args: options.args });
}

type ConfigInstance = ReturnType<typeof createConfig>;
export type RawConfig = ReturnType<ConfigInstance['getProperties']>;
