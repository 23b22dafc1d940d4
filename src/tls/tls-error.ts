/** Errors of the certificate material and of the identity a certificate gives. */
export enum TlsErrorCode {
  /** A file is missing or cannot be read. */
  Unreadable = 'TLS_UNREADABLE',
  /** A key file others than its owner can read. */
  KeyOpen = 'TLS_KEY_OPEN',
  /** Not a certificate or key, not signed by the CA, or a key of another certificate. */
  Invalid = 'TLS_INVALID',
  /** openssl failed while making certificates. */
  Openssl = 'TLS_OPENSSL',
}

export class TlsError extends Error {
  override readonly name = 'TlsError';

  constructor(
    readonly code: TlsErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
