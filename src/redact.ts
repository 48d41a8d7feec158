/** What counts as a secret in text the daemon prints (log lines, error messages), and how it is masked. */

export const REDACTED = '[redacted]';

/** Names of fields and query parameters whose values are secrets. */
const SECRET_NAME = /pass(word)?|token|secret|authorization|private.?key/i;

/** `scheme://userinfo@`: the password part (or a lone token) of a URI's userinfo. */
const URI_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s@:?#"']*)(:[^/\s@?#"']*)?@/gi;

/** A quoted `"user:password@host"`: an authority without its scheme, as error messages quote them. */
const QUOTED_USERINFO = /(["'])([^"'\s/:@]+):([^"'\s/@]+)@/g;

/** `?token=...` / `&password=...` in a URI's query. */
const QUERY_PARAM = /([?&])([^=&\s#"']+)=([^&\s#"']*)/g;

/** A PEM private key block, should one ever be quoted in an error. */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Masks credentials carried in text: a URI's userinfo password (`consul://user:pw@host` becomes
 * `consul://user:[redacted]@host`; a userinfo without a colon is taken as a token and masked whole),
 * the same in a quoted authority without a scheme (`"user:[redacted]@host"`), query parameters with
 * secret names (`?token=[redacted]`), and PEM private key blocks.
 */
export function redactCredentials(text: string): string {
  if (!/[@=]|PRIVATE KEY/.test(text)) return text;
  return text
    .replace(URI_USERINFO, (_all, scheme: string, user: string, password: string | undefined) =>
      password === undefined ? `${scheme}${REDACTED}@` : `${scheme}${user}:${REDACTED}@`,
    )
    .replace(QUOTED_USERINFO, (_all, quote: string, user: string) => `${quote}${user}:${REDACTED}@`)
    .replace(QUERY_PARAM, (all, sep: string, name: string, value: string) =>
      isSecretName(name) && value !== '' ? `${sep}${name}=${REDACTED}` : all,
    )
    .replace(PEM_PRIVATE_KEY, REDACTED);
}
