/**
 * Input fields shared by the routers. (Node ids, addresses and labels are
 * the routing table's own schemas, so an input accepted is one the command
 * accepts; member ids, hosts and ports come from src/config, as in the
 * cluster file.) Every object is strict: an unknown key is a typo, answered
 * with 400 and the keys that exist.
 */
import { z } from 'zod';
import { intInRange, strictObject } from '../../config/index.js';

export const consistencySchema = z.enum(['linearizable', 'stale'], { error: 'expected "linearizable" or "stale"' });

/** Every read: linearizable (ReadIndex) unless the caller accepts a stale answer from this replica's table. */
export const readInput = strictObject({ consistency: consistencySchema.optional() }).optional();

/** Why, in words: it ends up in the event the change causes. */
export const reasonInput = z.string({ error: 'expected a reason (a string)' }).max(1_000, { error: 'expected a reason of at most 1000 characters' });

export const seqSchema = intInRange(0, Number.MAX_SAFE_INTEGER);
