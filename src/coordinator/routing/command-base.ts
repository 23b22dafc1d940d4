/**
 * Fields every command carries: the leader's clock (apply reads none), why,
 * and, when the API checks credentials, who asked (a token name or a
 * certificate subject), for the event it causes. `by` is left out when
 * nobody authenticated, so such entries read the same on every version.
 */
import { actorSchema, reasonSchema, timeMsSchema } from './fields.js';

export const commandBase = { atMs: timeMsSchema, reason: reasonSchema, by: actorSchema.optional() };
