/** A zod failure as the 400 answer DESIGN.md §7 asks for: every line names the field and says what was expected. */
import type { z } from 'zod';
import { formatZodIssues } from '../../../config/index.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';

/** Lines spelled out in the message; `issues` has them all. */
const MESSAGE_LINES = 3;

/**
 * `input` is the value that was parsed, so that a line can say what was
 * found (`got "abc"`) or that the field is missing. `what` names the whole
 * input in lines about it (`body: expected an object, got an array`).
 */
export function invalidInput(error: z.core.$ZodError, input: unknown, what = 'input'): ClusterError {
  const issues = error.issues.flatMap((issue) => {
    const lines = formatZodIssues([issue], input);
    const atRoot = issue.path.length === 0 && issue.code !== 'unrecognized_keys';
    return atRoot ? lines.map((l) => `${what}: ${l}`) : lines;
  });
  const shown = issues.slice(0, MESSAGE_LINES);
  if (issues.length > MESSAGE_LINES) shown.push(`and ${issues.length - MESSAGE_LINES} more`);
  return new ClusterError({ code: ClusterErrorCode.InvalidInput, issues }, shown.join('; '));
}

/** A bad request that is not a schema failure (bad JSON, a malformed path), in the same shape. */
export function badRequest(line: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.InvalidInput, issues: [line] }, line);
}
