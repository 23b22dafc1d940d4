/**
 * Identity is the certificate: with TLS, calls that only one member may
 * make are checked against the certificate the caller's handshake verified,
 * never against what the request claims. Without TLS (loopback or
 * --insecure) there is nothing to check against, and nothing is checked.
 */
import type { IncomingMessage } from 'node:http';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { CERT_ROLES, peerIdentity, type CertIdentity, type CertRole } from '../../tls/identity.js';
import { processTls } from '../../tls/process-tls.js';

/**
 * Set by a coordinator that forwards a call to the leader: the role and id
 * of the certificate of whoever called it (`node/n1`). Believed only on a
 * connection whose own certificate is a coordinator's.
 */
export const ON_BEHALF_OF_HEADER = 'x-torua-on-behalf-of';

/** The header value for a caller's certificate. */
export function onBehalfOfValue(identity: CertIdentity): string {
  return `${identity.role}/${identity.id}`;
}

/** The verified certificate of the caller of `req`, or of the caller a coordinator forwarded it for; undefined without TLS. */
export function callerCertificate(req: IncomingMessage): CertIdentity | undefined {
  const direct = peerIdentity(req.socket);
  const relayed = req.headers[ON_BEHALF_OF_HEADER];
  if (direct?.role !== 'coordinator' || typeof relayed !== 'string') return direct;
  const match = /^([a-z]+)\/(.{1,128})$/.exec(relayed);
  if (match === null || !(CERT_ROLES as readonly string[]).includes(match[1]!)) return direct;
  const role = match[1] as CertRole;
  const id = match[2]!;
  return { id, role, clusterId: direct.clusterId, subject: `O=${direct.clusterId}, OU=${role}, CN=${id}` };
}

export interface CertificateRule {
  /** The roles that may make the call. */
  readonly roles: readonly CertRole[];
  /** The member id the certificate must name (the id the call is about). */
  readonly id?: string | undefined;
}

/** Throws FORBIDDEN (403) when TLS is on and `caller` does not satisfy `rule`; `what` names the call. */
export function requireCertificate(caller: CertIdentity | undefined, rule: CertificateRule, what: string): void {
  if (processTls() === undefined) return;
  const expected = `${rule.roles.join(' or ')} certificate${rule.id === undefined ? '' : ` of ${rule.id}`}`;
  const reason =
    caller === undefined
      ? `${what} needs a ${expected}; the caller presented none`
      : !rule.roles.includes(caller.role)
        ? `${what} needs a ${expected}; the caller's is a ${caller.role} certificate of ${caller.id}`
        : rule.id !== undefined && caller.id !== rule.id
          ? `${what} needs a ${expected}; the caller's names ${caller.id}`
          : undefined;
  if (reason !== undefined) throw new ClusterError({ code: ClusterErrorCode.Forbidden, reason }, reason);
}
