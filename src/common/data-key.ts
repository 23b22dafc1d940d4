/**
 * The rule for data keys (DESIGN.md §6), shared by the coordinators, the
 * data nodes and the clients so that all refuse the same keys for the same
 * reason: 1–1024 bytes of well-formed UTF-8, any characters (spaces, `/`,
 * `@`, `数字` …). A string with a lone surrogate has no UTF-8 form, so it is
 * refused rather than silently turned into U+FFFD (two keys would collide).
 */
export const MAX_KEY_BYTES = 1024;

const encoder = new TextEncoder();
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `key` is not a valid data key, or undefined when it is one. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `key: expected a string, got ${key === null ? 'null' : typeof key}`;
  if (key.length === 0) return 'key: expected 1 to 1024 bytes of UTF-8, got an empty key';
  if (LONE_SURROGATE.test(key)) return 'key: expected well-formed UTF-8, got a string with a lone surrogate';
  const bytes = encoder.encode(key).length;
  if (bytes > MAX_KEY_BYTES) return `key: expected at most ${MAX_KEY_BYTES} bytes of UTF-8, got ${bytes}`;
  return undefined;
}
