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

/** Deep equality of JSON-shaped values, key order ignored. */
export const sameValue = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
