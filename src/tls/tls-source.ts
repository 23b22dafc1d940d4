/**
 * The certificate material of one process, reloadable: servers and agents
 * made from it take the new material when `reload()` succeeds (SIGHUP), and
 * a failed reload keeps the old one. Every connection it sets up is TLS 1.3,
 * verified against the cluster CA in both directions, and checked to hold a
 * certificate of this cluster (O) in the roles the caller expects (OU).
 */
import tls, { type ConnectionOptions, type PeerCertificate, type SecureContext, type TlsOptions } from 'node:tls';
import { certIdentity, type CertRole } from './identity.js';
import { X509Certificate } from 'node:crypto';
import { TlsError, TlsErrorCode } from './tls-error.js';
import { readTlsMaterial, type TlsMaterial, type TlsPaths } from './material.js';

export const TLS_MIN_VERSION = 'TLSv1.3';

export class TlsSource {
  private material: TlsMaterial;
  /**
   * The dialling side's context for the current material, made once: a
   * connection given ca/cert/key instead parses the key and CA again (a
   * few ms of CPU per handshake, more than the handshake itself).
   */
  private clientContext: SecureContext | undefined;
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  /** Peers must hold certificates made for this cluster. */
  readonly clusterId: string;

  /** `clusterId` unset: the one the own certificate names (a node not in the file, the CLI). */
  constructor(
    readonly paths: TlsPaths,
    clusterId?: string,
  ) {
    this.material = readTlsMaterial(paths);
    const own = certIdentity(new X509Certificate(this.material.cert).toLegacyObject());
    const id = clusterId ?? own?.clusterId;
    if (id === undefined) throw new TlsError(TlsErrorCode.Invalid, `certificate ${paths.cert} names no cluster (subject O) and none was given`);
    if (own !== undefined && own.clusterId !== id) throw new TlsError(TlsErrorCode.Invalid, `certificate ${paths.cert} is for cluster ${JSON.stringify(own.clusterId)}, this process is in ${JSON.stringify(id)}`);
    this.clusterId = id;
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** Re-reads the files; throws TlsError (and keeps the old material) when they are wrong. */
  reload(): TlsMaterial {
    const next = readTlsMaterial(this.paths);
    this.material = next;
    this.clientContext = undefined;
    for (const listener of this.listeners) listener(next);
    return next;
  }

  /** Called after each successful reload; returns the unsubscribe. */
  onChange(listener: (m: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A server that asks every client for a certificate of the cluster CA and refuses one without. */
  serverOptions(): TlsOptions {
    const { ca, cert, key } = this.material;
    return { ca, cert, key, minVersion: TLS_MIN_VERSION, requestCert: true, rejectUnauthorized: true };
  }

  /**
   * What a dialling side passes to tls.connect or an https.Agent: its own
   * certificate, the CA, and a server check that adds to the host name
   * check the cluster id and, when given, the roles the server may have.
   */
  clientOptions(expect?: readonly CertRole[]): ConnectionOptions {
    if (this.clientContext === undefined) {
      const { ca, cert, key } = this.material;
      this.clientContext = tls.createSecureContext({ ca, cert, key, minVersion: TLS_MIN_VERSION });
    }
    return { secureContext: this.clientContext, minVersion: TLS_MIN_VERSION, rejectUnauthorized: true, checkServerIdentity: (host, peer) => this.checkServer(host, peer, expect) };
  }

  /** Why a certificate that chains to the CA is still not one to talk to; undefined when it is. */
  refusal(cert: Pick<PeerCertificate, 'subject'>, expect?: readonly CertRole[]): string | undefined {
    const identity = certIdentity(cert);
    if (identity === undefined) return 'its certificate names no member of a torua cluster (subject CN, OU, O)';
    if (identity.clusterId !== this.clusterId) return `its certificate is for cluster ${JSON.stringify(identity.clusterId)}, this is ${JSON.stringify(this.clusterId)}`;
    if (expect !== undefined && !expect.includes(identity.role)) return `its certificate is a ${identity.role} certificate (${identity.id}); expected ${expect.join(' or ')}`;
    return undefined;
  }

  private checkServer(host: string, peer: PeerCertificate, expect: readonly CertRole[] | undefined): Error | undefined {
    const mismatch = tls.checkServerIdentity(host, peer);
    if (mismatch !== undefined) return mismatch;
    const why = this.refusal(peer, expect);
    return why === undefined ? undefined : Object.assign(new Error(`refusing ${host}: ${why}`), { code: 'ERR_TORUA_PEER_CERTIFICATE' });
  }
}
