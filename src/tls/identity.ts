/**
 * Who a certificate says its holder is. `torua certs create` writes the
 * member id as the subject's CN, its role (coordinator, node or client) as
 * OU and the cluster id as O; a certificate of the cluster CA is all it takes
 * to connect, and these three decide what the holder may do.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';

export const CERT_ROLES = ['coordinator', 'node', 'client'] as const;
export type CertRole = (typeof CERT_ROLES)[number];

export interface CertIdentity {
  /** The member id (CN): `c1`, `n3`, or a client's name. */
  readonly id: string;
  readonly role: CertRole;
  /** The cluster the certificate was made for (O). */
  readonly clusterId: string;
  /** The whole subject, for logs and events: `O=demo, OU=node, CN=n1`. */
  readonly subject: string;
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

/** The identity a verified certificate gives, or undefined when its subject is not one of ours. */
export function certIdentity(cert: Pick<PeerCertificate, 'subject'> | undefined): CertIdentity | undefined {
  const subject = cert?.subject as Record<string, string | string[] | undefined> | undefined;
  if (subject === undefined) return undefined;
  const id = single(subject['CN']);
  const role = single(subject['OU']);
  const clusterId = single(subject['O']);
  if (id === undefined || clusterId === undefined || !(CERT_ROLES as readonly string[]).includes(role ?? '')) return undefined;
  return { id, role: role as CertRole, clusterId, subject: `O=${clusterId}, OU=${role}, CN=${id}` };
}

/**
 * The identity of the other end of a TLS socket whose certificate the
 * handshake verified against the cluster CA; undefined for a plain socket,
 * an unverified one, or a subject that is not one of ours.
 */
export function peerIdentity(socket: unknown): CertIdentity | undefined {
  const tls = socket as Partial<TLSSocket> | null;
  if (tls === null || typeof tls !== 'object' || tls.encrypted !== true || tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  const known = identities.get(tls);
  if (known !== undefined) return known ?? undefined;
  const identity = certIdentity(peerCertificate(tls as TLSSocket));
  identities.set(tls, identity ?? null);
  return identity;
}

/**
 * The peer certificate of a TLS socket, read once per socket: each
 * getPeerCertificate() decodes the certificate into a new object, which
 * per request was a tenth of a busy leader's CPU. A TLS 1.3 connection's
 * peer never changes (there is no renegotiation).
 */
export function peerCertificate(socket: TLSSocket): PeerCertificate {
  let cert = certificates.get(socket);
  if (cert === undefined) {
    cert = socket.getPeerCertificate();
    certificates.set(socket, cert);
  }
  return cert;
}

const certificates = new WeakMap<object, PeerCertificate>();
/** null: the socket's certificate names no member of ours. */
const identities = new WeakMap<object, CertIdentity | null>();
