import { z } from 'zod';

/*
 * Field schemas with their own words. Every message here is a lowercase
 * phrase that reads after "field: " (`formatZodIssues` uses such messages as
 * they are and words zod's built-in issues itself).
 */

/** An integer in [min, max]; wrong type and out of range get the same words, which say both bounds. */
export function intInRange(min: number, max: number) {
  const error = `expected an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number in [min, max]. */
export function numberInRange(min: number, max: number) {
  const error = `expected a number from ${min} to ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/**
 * `z.strictObject` whose unknown-key issue lists the keys that are allowed
 * there, since a typo is the usual reason for an unknown key.
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown key (the keys here are ${known})`;
      if (issue.code === 'invalid_type') return 'expected an object';
      return undefined;
    },
  });
}

export const portSchema = intInRange(1, 65_535);

/** Ids name data directories (`<dataDir>/<id>`) and URL segments, so: no dots, slashes or spaces. */
export const idSchema = z
  .string({ error: 'expected an id (a string)' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
    error: 'expected an id of 1 to 64 letters, digits, "-" and "_", starting with a letter or digit',
  });

const IPV4_OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);
const HOSTNAME_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `host` cannot be a process's address (what was expected, and why if not obvious), or undefined if it can. */
export function hostProblem(host: string): { expected: string; why?: string } | undefined {
  const expected = { expected: 'expected an IPv4 address (like 127.0.0.11) or a hostname' };
  if (/^[\d.]+$/.test(host)) {
    if (!IPV4.test(host)) return expected;
    const first = Number(host.split('.')[0]);
    // Each process binds to its host and others dial it: the address must name one interface.
    if (host === '0.0.0.0') return { expected: 'expected the address other processes dial', why: '0.0.0.0 means "every interface"' };
    if (first >= 224) return { expected: 'expected a unicast address', why: 'multicast and broadcast addresses name no single process' };
    return undefined;
  }
  if (host.length > 253) return expected;
  const labels = host.split('.');
  if (!labels.every((l) => HOSTNAME_LABEL.test(l))) return expected;
  // A name whose last label is all digits is a mistyped address, not a hostname.
  if (/^\d+$/.test(labels.at(-1) ?? '')) return expected;
  return undefined;
}

export const hostSchema = z.string({ error: 'expected a host (a string)' }).superRefine((host, ctx) => {
  const problem = hostProblem(host);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem.expected, input: host, ...(problem.why ? { params: { why: problem.why } } : {}) });
  }
});

/** Labels are free-form key/value pairs (zone, rack …) used by placement. */
export const labelsSchema = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, {
    error: 'expected a label name of 1 to 63 letters, digits, ".", "_", "/" and "-"',
  }),
  z.string({ error: 'expected a label value (a string)' }).max(256, { error: 'expected a label value of at most 256 characters' }),
  { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object of label names to strings' : undefined) },
);
