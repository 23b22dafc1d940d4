/**
 * The cluster file's `auth` section: who may call the coordinator API, and
 * with which role. Tokens are stored as salted scrypt hashes only (see
 * token-hash.ts); the token itself is shown once, by `torua token create`.
 */
import { z } from 'zod';
import { idSchema, strictObject } from './fields.js';
import { TOKEN_HASH_PATTERN } from './token-hash.js';

/** Each role can do what the ones before it can. */
export const ROLES = ['reader', 'writer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleSchema = z.enum(ROLES, { error: `expected a role: one of ${ROLES.join(', ')}` });

/** True when `held` is `required` or a greater role. */
export function roleAtLeast(held: Role, required: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}

export const tokenEntrySchema = strictObject({
  /** Named in every event the token's holder causes; the token starts with it (`<name>.<secret>`). */
  name: idSchema,
  role: roleSchema,
  hash: z.string({ error: 'expected a token hash (from `torua token create`)' }).regex(TOKEN_HASH_PATTERN, {
    error: 'expected a token hash as `torua token create` prints it (scrypt$<salt>$<hash>)',
  }),
});

export const authSchema = strictObject({
  tokens: z.array(tokenEntrySchema, { error: 'expected an array of tokens' }).max(1_000, { error: 'expected at most 1000 tokens' }),
  /**
   * A file (relative to the cluster file) holding the secret the cluster's
   * own processes show each other: data nodes registering and renewing
   * leases, coordinators forwarding calls and confirming failures. It must
   * not be readable by others (mode 0600).
   */
  internalTokenFile: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' }),
  /** `GET /metrics` without a token (for a scraper that cannot send one); by default it needs `reader`. */
  openMetrics: z.boolean({ error: 'expected true or false' }).default(false),
}).superRefine((auth, ctx) => {
  const seen = new Set<string>();
  auth.tokens.forEach((t, i) => {
    if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], input: t.name, message: 'expected a token name used once' });
    seen.add(t.name);
  });
});

export type AuthSettings = z.output<typeof authSchema>;
export type TokenEntry = z.output<typeof tokenEntrySchema>;
