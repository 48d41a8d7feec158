import {
  EtcdAuthenticationFailedError,
  EtcdError,
  EtcdPermissionDeniedError,
  GRPCGenericError,
  GRPCUnavailableError,
  RecoverableError,
} from 'etcd3';

/**
 * etcd could be reached but refused this client as configured (certificates, user, role). Retrying
 * helps only once something is changed on one side, so the message says what to look at.
 */
class EtcdAccessError extends Error {
  constructor(
    readonly endpoint: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The TLS handshake with etcd failed: a certificate was not accepted by one side. */
class EtcdTlsError extends EtcdAccessError {
  // Kept "recoverable" for etcd3: the member is skipped like an unreachable one and tried again later.
  readonly [RecoverableError] = true;
}

/** etcd did not accept the user name and password, or wants some and none were given. */
class EtcdAuthError extends EtcdAccessError {}

/** The user's roles do not allow an operation the daemon needs. */
class EtcdPermissionError extends EtcdAccessError {}

/** No connection to an etcd member (refused, timed out, name not resolved). */
class EtcdUnreachableError extends Error {
  readonly [RecoverableError] = true;
  constructor(
    readonly endpoint: string,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdUnreachableError';
  }
}

/** A member's circuit breaker holds calls back for a moment after failures; carries the last of them. */
export class EtcdMemberPausedError extends Error {
  constructor(readonly lastFailure: Error) {
    super(`${lastFailure.message} (member not called again for a moment)`);
    this.name = 'EtcdMemberPausedError';
  }
}

/** Whether `err` came from etcd or the way to it (etcd3's own errors and the explained ones above). */
export function isEtcdFailure(err: unknown): boolean {
  return (
    err instanceof EtcdError ||
    err instanceof GRPCGenericError ||
    err instanceof EtcdAccessError ||
    err instanceof EtcdUnreachableError ||
    err instanceof EtcdMemberPausedError
  );
}

/** gRPC's "No connection established. Last error: ... (timestamp). Resolution note: " down to its cause. */
export function unavailableReason(message: string): string {
  let text = message.replace(/^\d+ UNAVAILABLE:\s*/, '');
  const last = /Last error: (?:Error: )?([\s\S]*?)\s*(?:\(\d{4}-\d\d-\d\dT[^)]*\))?\.?\s*(?:Resolution note:[\s\S]*)?$/.exec(text);
  if (last) text = last[1];
  // OpenSSL's "<hex>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:..." keeps its reason.
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(text);
  if (ssl) text = ssl[1];
  // Node's advice on its own CA store does not apply: the daemon trusts EC_REGISTRATOR_ETCD_CA alone.
  text = text.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca\s*$/, '');
  // OpenSSL names an alert after a protocol version (sslv3 in 1.1, ssl/tls in 3): one wording on every Node.
  text = text.replace(/\b(?:sslv3|ssl\/tls|tlsv1[0-3]?) alert /i, 'TLS alert ');
  return text.trim();
}

/** Which side of a TLS handshake gave up, when the cause is a TLS one. */
function tlsProblem(reason: string): string | undefined {
  if (/unable to verify|self[- ]signed|unable to get (local )?issuer|certificate has expired|not yet valid|altnames|CERT_/i.test(reason)) {
    return 'TLS certificate verification failed: the server certificate is not trusted with EC_REGISTRATOR_ETCD_CA';
  }
  if (/alert (bad certificate|certificate required|unknown ca|certificate unknown|handshake failure)/i.test(reason)) {
    return 'TLS handshake refused by etcd: it did not accept the client certificate (EC_REGISTRATOR_ETCD_CERT / EC_REGISTRATOR_ETCD_KEY)';
  }
  if (/before secure TLS connection|wrong version number|packet length too long/i.test(reason)) {
    return 'TLS handshake failed: the endpoint does not seem to speak TLS';
  }
  return undefined;
}

/**
 * An etcd3 error as a message an operator can act on, naming the endpoint (`endpoint` may list
 * several when the failing member is not known) and, for refusals, the settings involved.
 * Anything not recognised is returned unchanged.
 */
export function explainEtcdError(err: unknown, endpoint: string, user: string): unknown {
  if (!(err instanceof Error) || err instanceof EtcdAccessError || err instanceof EtcdUnreachableError) return err;
  const who = user ? `user "${user}"` : 'this client';
  if (err instanceof EtcdAuthenticationFailedError) {
    return new EtcdAuthError(
      endpoint,
      `etcd ${endpoint}: authentication failed for ${who}: wrong user name ` +
        `or password (EC_REGISTRATOR_ETCD_USER / EC_REGISTRATOR_ETCD_PASSWORD)`,
    );
  }
  if (/etcdserver: user name is empty/.test(err.message)) {
    return new EtcdAuthError(
      endpoint,
      `etcd ${endpoint}: authentication required: set EC_REGISTRATOR_ETCD_USER and EC_REGISTRATOR_ETCD_PASSWORD`,
    );
  }
  if (/etcdserver: authentication is not enabled/.test(err.message)) {
    return new EtcdAuthError(endpoint, `etcd ${endpoint}: authentication is not enabled there, yet EC_REGISTRATOR_ETCD_USER is set`);
  }
  if (err instanceof EtcdPermissionDeniedError) {
    return new EtcdPermissionError(
      endpoint,
      `etcd ${endpoint}: permission denied for ${who}: its roles lack readwrite on a key prefix this daemon uses`,
    );
  }
  if (err instanceof GRPCUnavailableError) {
    const reason = unavailableReason(err.message);
    const tls = tlsProblem(reason);
    return tls
      ? new EtcdTlsError(endpoint, `etcd ${endpoint}: ${tls} (${reason})`)
      : new EtcdUnreachableError(endpoint, `etcd ${endpoint} unreachable: ${reason}`);
  }
  return err;
}

/** Ops cannot be one etcd transaction (too many, or too many bytes); `reason` says which limit they pass. Nothing was written. */
export class TransactionTooLargeError extends Error {
  constructor(readonly reason: string) {
    super(`cannot be written in one etcd transaction: ${reason}`);
    this.name = 'TransactionTooLargeError';
  }
}
