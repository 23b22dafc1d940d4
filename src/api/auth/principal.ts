/** Who a request comes from, once its credentials were checked, and what each operation asks of it. */
import { roleAtLeast, type Role } from '../../config/index.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';

/**
 * What an operation needs: a role, or `internal`, for what only the
 * cluster's own processes do (a data node renewing its lease, a replica
 * confirming a failure). An admin may do internal operations by hand too.
 */
export type Access = Role | 'internal' | 'open';

export interface Principal {
  /** The token's name (`internal` for the cluster's own processes), recorded in the events it causes. */
  readonly name: string;
  readonly role: Role;
  /** Holds the cluster's internal token. */
  readonly internal: boolean;
}

/**
 * How a request authenticated. `enforced: false`: the API runs without an
 * `auth` section (or is called in-process), and everything is allowed.
 */
export type RequestAuth =
  | { readonly enforced: false }
  | { readonly enforced: true; readonly principal: Principal | null; readonly failure?: string; readonly authorization?: string };

export const OPEN_AUTH: RequestAuth = { enforced: false };

/** The cluster's own processes: they register, renew leases, report sync and drain (operator), never change members or tokens. */
export const INTERNAL_PRINCIPAL: Principal = { name: 'internal', role: 'operator', internal: true };

export function allows(principal: Principal, access: Access): boolean {
  if (access === 'open') return true;
  if (access === 'internal') return principal.internal || principal.role === 'admin';
  return roleAtLeast(principal.role, access);
}

/** The principal's name for events, or undefined when nobody authenticated (auth off). */
export function actorOf(auth: RequestAuth | undefined): string | undefined {
  return auth?.enforced === true ? (auth.principal?.name ?? undefined) : undefined;
}

/** Throws UNAUTHENTICATED (401) or FORBIDDEN (403) unless the request may do what `access` names. */
export function requireAccess(auth: RequestAuth | undefined, access: Access, what: string): void {
  if (auth === undefined || !auth.enforced || access === 'open') return;
  const principal = auth.principal;
  if (principal === null) throw new ClusterError({ code: ClusterErrorCode.Unauthenticated }, `${what}: ${auth.failure ?? 'no valid credentials'}`);
  if (!allows(principal, access)) {
    const required = access === 'internal' ? 'admin (or the internal token)' : access;
    throw new ClusterError({ code: ClusterErrorCode.Forbidden, required, role: principal.role }, `${what} needs the role ${required}; ${principal.name} has ${principal.role}`);
  }
}

/** The caller's own Authorization header, to pass on when this replica asks another on its behalf (forwarding, relaying). */
export function forwardedAuthorization(auth: RequestAuth | undefined): { authorization?: string } {
  return auth?.enforced === true && auth.authorization !== undefined ? { authorization: auth.authorization } : {};
}
