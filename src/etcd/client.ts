import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, IOptions, isRecoverableError } from 'etcd3';
import { readFileSync } from 'node:fs';
import type { EtcdSettings } from '../config/load';

/** Deadline for one etcd call, so a frozen member cannot hang a write forever. */
export const ETCD_CALL_TIMEOUT_MS = 5_000;

/** Shape of the options we hand to etcd3, kept separate so it can be inspected without connecting. */
export function etcdClientOptions(settings: Pick<EtcdSettings, 'hosts' | 'ca' | 'cert' | 'key' | 'user' | 'password'>): IOptions {
  const options: IOptions = {
    hosts: settings.hosts,
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
    faultHandling: {
      // Short breaker: the default keeps a recovered etcd refused for 5 s after an outage.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(3) }),
      // A retry moves to the next endpoint, which is what makes a dead cluster member harmless.
      global: retry(handleWhen(isRecoverableError), {
        maxAttempts: Math.max(2, settings.hosts.length),
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
      }),
    },
  };
  if (settings.ca || settings.cert) {
    options.credentials = {
      rootCertificate: settings.ca ? readFileSync(settings.ca) : (undefined as unknown as Buffer),
      ...(settings.cert ? { certChain: readFileSync(settings.cert), privateKey: readFileSync(settings.key) } : {}),
    };
  }
  if (settings.user) options.auth = { username: settings.user, password: settings.password };
  return options;
}

export function createEtcdClient(settings: EtcdSettings): Etcd3 {
  return new Etcd3(etcdClientOptions(settings));
}

/**
 * The etcd a registry URI is written to: the daemon's own client when the URI names no host
 * (`etcd:///services`), else a client of its own for that host, with the same scheme, TLS and auth.
 */
export function etcdForUri(settings: EtcdSettings, shared: Etcd3, authority: string): { client: Etcd3; shared: boolean } {
  if (authority === '') return { client: shared, shared: true };
  const scheme = settings.hosts[0].split('://')[0];
  return { client: createEtcdClient({ ...settings, hosts: [`${scheme}://${authority}`] }), shared: false };
}
