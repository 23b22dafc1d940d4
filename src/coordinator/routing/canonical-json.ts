/**
 * JSON with object keys sorted at every level: the same value gives the same
 * text whatever order its keys were inserted in. Arrays keep their order (the
 * table stores sets as sorted arrays, so order there is already canonical).
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not representable in JSON`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const keys = Object.keys(value).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      // undefined, functions, symbols, bigints: never part of the table; refusing them catches a bug early.
      throw new TypeError(`canonicalJson: a ${typeof value} is not part of the table`);
  }
}

/**
 * The same text as canonicalJson, for an immutable value that shares most of
 * its parts with earlier ones (a routing state and the one before it): the
 * text of every object or array down to `memoDepth` levels is kept per object,
 * so a new state costs the serialization of what changed plus joining the
 * rest. Only for values nothing ever mutates in place.
 */
const memo = new WeakMap<object, string>();

export function canonicalJsonShared(value: unknown, memoDepth = 3): string {
  if (typeof value !== 'object' || value === null || memoDepth < 0) return canonicalJson(value);
  const known = memo.get(value);
  if (known !== undefined) return known;
  const below = memoDepth - 1;
  let text: string;
  if (Array.isArray(value)) text = `[${value.map((v) => canonicalJsonShared(v, below)).join(',')}]`;
  else {
    const keys = Object.keys(value).sort();
    text = `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJsonShared((value as Record<string, unknown>)[k], below)}`).join(',')}}`;
  }
  memo.set(value, text);
  return text;
}

/** Deep equality of JSON-shaped values, key order ignored. */
export const sameValue = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
