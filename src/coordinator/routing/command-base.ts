/** Fields every command carries: the leader's clock (apply reads none) and why, for the event it causes. */
import { reasonSchema, timeMsSchema } from './fields.js';

export const commandBase = { atMs: timeMsSchema, reason: reasonSchema };
