import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './config-error';

/** One PEM file and the setting that named it, e.g. `EC_REGISTRATOR_ETCD_CA`. */
export interface PemFile {
  path: string;
  setting: string;
}

/** The file's contents; a ConfigError naming the setting when it cannot be read. */
export function readPem(file: PemFile): Buffer {
  try {
    return readFileSync(file.path);
  } catch (err) {
    throw new ConfigError(
      `${file.setting} file "${file.path}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** Node skips CA entries it cannot parse without a word; a CA file must hold certificates and only those. */
function checkCertificates(pem: Buffer, file: PemFile): void {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${file.setting} file "${file.path}" holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new ConfigError(`${file.setting} file "${file.path}" holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  }
}

/**
 * Reads a CA, client certificate and key and checks them as TLS will use them: files that are not
 * PEM, and a key that does not belong to its certificate, are configuration errors (exit 2) before
 * anything runs, not a failure at the first connection.
 */
export function loadTlsFiles(
  files: { ca?: PemFile; cert?: PemFile; key?: PemFile },
  what: string,
): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const ca = files.ca ? readPem(files.ca) : undefined;
  const cert = files.cert ? readPem(files.cert) : undefined;
  const key = files.key ? readPem(files.key) : undefined;
  if (ca && files.ca) checkCertificates(ca, files.ca);
  try {
    createSecureContext({ ca, cert, key });
  } catch (err) {
    throw new ConfigError(`${what} are not usable: ${(err as Error).message}`);
  }
  return { ca, cert, key };
}
