export { Authenticator, type AuthenticatorOptions } from './authenticator.js';
export { actorOf, allows, forwardedAuthorization, INTERNAL_PRINCIPAL, OPEN_AUTH, requireAccess, type Access, type Principal, type RequestAuth } from './principal.js';
