import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  IDefaultPolicyContext,
  IPolicy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
} from 'cockatiel';
import { Etcd3, IOptions, isRecoverableError } from 'etcd3';
import { readFileSync } from 'node:fs';
import { etcdEndpoint } from './endpoint';
import { EtcdMemberPausedError, explainEtcdError } from './errors';

/** How to reach etcd: the configured endpoints, TLS files and credentials. */
export interface EtcdSettings {
  /** Endpoints with scheme, e.g. `http://localhost:2379`. */
  hosts: string[];
  ca: string;
  cert: string;
  key: string;
  user: string;
  password: string;
  /** Mirror prefix without slashes, e.g. `registry`. */
  dir: string;
}

/** Deadline for one etcd call, so a frozen member cannot hang a write forever. */
const ETCD_CALL_TIMEOUT_MS = 5_000;

/** Shape of the options we hand to etcd3, kept separate so it can be inspected without connecting. */
export function etcdClientOptions(settings: Pick<EtcdSettings, 'hosts' | 'ca' | 'cert' | 'key' | 'user' | 'password'>): IOptions {
  const options: IOptions = {
    hosts: settings.hosts,
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
    faultHandling: {
      // Short breaker: the default keeps a recovered etcd refused for 5 s after an outage.
      host: (host) => hostPolicy(host, settings.user),
      // A retry moves to the next endpoint, which is what makes a dead cluster member harmless.
      // Failures before any member is picked (authentication, which etcd3 does first) are explained here.
      global: explaining(
        retry(handleWhen(isRecoverableError), {
          maxAttempts: Math.max(2, settings.hosts.length),
          backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
        }),
        (err) => explainEtcdError(err, settings.hosts.join(','), settings.user),
      ),
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
  return { client: createEtcdClient({ ...settings, hosts: [uriEndpoint(settings, authority)] }), shared: false };
}

/** The endpoint of a registry URI's own host: the daemon's scheme, port 2379 unless the URI gives one. */
export function uriEndpoint(settings: Pick<EtcdSettings, 'hosts'>, authority: string): string {
  return etcdEndpoint(authority, settings.hosts[0].startsWith('https://') ? 'https' : 'http');
}

/** A policy whose failures are passed through `explain` (etcd3 only ever calls `execute`). */
function explaining(inner: IPolicy<IDefaultPolicyContext>, explain: (err: unknown) => unknown): IPolicy<IDefaultPolicyContext> {
  return {
    _altReturn: undefined as never,
    onSuccess: inner.onSuccess,
    onFailure: inner.onFailure,
    execute: (fn, signal) =>
      inner.execute(fn, signal).catch((err: unknown) => {
        throw explain(err);
      }),
  };
}

/**
 * One member's circuit breaker, its errors explained with the member's endpoint. While the breaker
 * is open, calls fail with the last real cause rather than "circuit breaker is open", so a TLS
 * or connection problem stays visible in every log line that reports the failure.
 */
function hostPolicy(host: string, user: string): IPolicy<IDefaultPolicyContext> {
  let lastFailure: unknown;
  const breaker = circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(3) });
  breaker.onSuccess(() => (lastFailure = undefined));
  return explaining(breaker, (err) => {
    if (isBrokenCircuitError(err) && lastFailure instanceof Error) return new EtcdMemberPausedError(lastFailure);
    const explained = explainEtcdError(err, host, user);
    // Only the failures that count towards opening the breaker.
    if (err instanceof Error && isRecoverableError(err)) lastFailure = explained;
    return explained;
  });
}
