/**
 * A process's certificate material: the cluster CA, its own certificate and
 * key, read from files. A key file open to anyone but its owner is refused
 * (whoever reads it can act as this process), like the node identity file.
 */
import { readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { TlsError, TlsErrorCode } from './tls-error.js';

export interface TlsPaths {
  /** The cluster CA every peer certificate must chain to. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface TlsMaterial {
  readonly paths: TlsPaths;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The own certificate's subject, e.g. `O=demo, OU=node, CN=n1`. */
  readonly subject: string;
  /** When the own certificate expires. */
  readonly notAfterMs: number;
  /** When the CA certificate expires. */
  readonly caNotAfterMs: number;
}

const NOT_OWNER_BITS = 0o077;

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsError(TlsErrorCode.Unreadable, `${what} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

/** Throws KEY_OPEN when the key file can be read by others than its owner. */
export function checkKeyMode(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    throw new TlsError(TlsErrorCode.Unreadable, `key ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  if ((mode & NOT_OWNER_BITS) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new TlsError(TlsErrorCode.KeyOpen, `key ${file} is open to others than its owner (mode ${octal}): whoever reads it can act as this process; refusing it: run chmod 600 ${file}`);
  }
}

function parsed(pem: Buffer, file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new TlsError(TlsErrorCode.Invalid, `${what} ${file}: not a PEM certificate (${(e as Error).message})`, { cause: e });
  }
}

/** Reads and checks the three files; throws TlsError naming the file that is wrong. */
export function readTlsMaterial(paths: TlsPaths): TlsMaterial {
  checkKeyMode(paths.key);
  const ca = readFile(paths.ca, 'CA certificate');
  const cert = readFile(paths.cert, 'certificate');
  const key = readFile(paths.key, 'key');
  const caCert = parsed(ca, paths.ca, 'CA certificate');
  const own = parsed(cert, paths.cert, 'certificate');
  if (!own.verify(caCert.publicKey)) throw new TlsError(TlsErrorCode.Invalid, `certificate ${paths.cert} is not signed by the CA ${paths.ca}`);
  try {
    if (!own.checkPrivateKey(createPrivateKey(key))) throw new TlsError(TlsErrorCode.Invalid, `key ${paths.key} does not belong to the certificate ${paths.cert}`);
  } catch (e) {
    if (e instanceof TlsError) throw e;
    throw new TlsError(TlsErrorCode.Invalid, `key ${paths.key}: not a PEM private key (${(e as Error).message})`, { cause: e });
  }
  return {
    paths,
    ca,
    cert,
    key,
    subject: own.subject.split('\n').join(', '),
    notAfterMs: Date.parse(own.validTo),
    caNotAfterMs: Date.parse(caCert.validTo),
  };
}

