/**
 * With TLS, a hello's `from` is believed only when the certificate the
 * handshake verified names that replica: a coordinator certificate of this
 * cluster whose CN is the id. A replica holding c3's key cannot speak as c2.
 */
import type { Socket } from 'node:net';
import { peerIdentity } from '../tls/identity.js';
import type { TlsSource } from '../tls/tls-source.js';
import { TransportError, TransportErrorCode } from './errors.js';

export function certificateRefusal(source: TlsSource | undefined, socket: Socket, claimed: string): TransportError | undefined {
  if (source === undefined) return undefined;
  const identity = peerIdentity(socket);
  const refuse = (why: string) => new TransportError(TransportErrorCode.CertificateMismatch, `peer claims to be ${JSON.stringify(claimed)} but ${why}`);
  if (identity === undefined) return refuse('presented no verified certificate of a torua member');
  if (identity.clusterId !== source.clusterId) return refuse(`its certificate is for cluster ${JSON.stringify(identity.clusterId)}`);
  if (identity.role !== 'coordinator') return refuse(`its certificate is a ${identity.role} certificate`);
  if (identity.id !== claimed) return refuse(`its certificate names ${JSON.stringify(identity.id)}`);
  return undefined;
}
