/** Turns zod issues into one message that names the field, for proposers and operators. */
import type { z } from 'zod';

export interface FieldError {
  /** Dotted path of the first offending field (`replicas.1`, `settings.health.leaseMs`), or `(root)`. */
  readonly field: string;
  readonly message: string;
}

function fieldOf(issue: z.core.$ZodIssue, prefix: readonly string[]): string {
  const path = [...prefix, ...issue.path.map(String)];
  // An unknown key is reported on its parent; name the key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0] ?? '');
  return path.length > 0 ? path.join('.') : '(root)';
}

/** At most a few issues are spelled out: one bad command should not make a megabyte of error. */
export function describeIssues(error: z.ZodError, prefix: readonly string[] = []): FieldError {
  const issues = error.issues;
  const first = issues[0];
  const parts = issues.slice(0, 3).map((i) => `${fieldOf(i, prefix)}: ${i.message}`);
  if (issues.length > 3) parts.push(`and ${issues.length - 3} more`);
  return { field: first ? fieldOf(first, prefix) : '(root)', message: parts.join('; ') };
}
