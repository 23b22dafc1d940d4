// Shared by the fuzzing tests: how many cases, from which seed, and byte mutations.
import type http from 'node:http';
import { request } from 'node:http';
import fc from 'fast-check';
import { Authenticator } from '../../src/api/auth/index.js';
import { createToken } from '../../src/config/index.js';

/** Cases per property (at least 10,000 by the security model's acceptance). */
export const FUZZ_RUNS = 10_000;
/** Fixed, so a failure reproduces; fast-check prints the seed and path of a counterexample. */
export const FUZZ_SEED = 14_2026;

export type Mutation = { readonly kind: 'flip' | 'insert' | 'delete'; readonly at: number; readonly value: number };

export const mutationsArb: fc.Arbitrary<readonly Mutation[]> = fc.array(
  fc.record({ kind: fc.constantFrom('flip' as const, 'insert' as const, 'delete' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  { maxLength: 4 },
);

/** `buf` with each mutation applied in turn (positions wrap around its length). */
export function mutate(buf: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let out = Uint8Array.from(buf);
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % (out.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'flip' && out.length > 0) out[at] = m.value;
    else if (m.kind === 'insert') out = Uint8Array.from(Buffer.concat([out.subarray(0, at), Uint8Array.of(m.value), out.subarray(at)]));
    else if (out.length > 0) out = Uint8Array.from(Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]));
  }
  return out;
}

/** Generous: the machine running the suite may be busy; a property of FUZZ_RUNS cases takes a few seconds. */
export const FUZZ_TIMEOUT_MS = 60_000;

export interface FuzzAnswer {
  readonly status: number;
  readonly body: string;
}

/** One request over `agent`, the path sent as given; the answer's status and text. */
export function sendFuzzRequest(agent: http.Agent, url: string, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The cluster's internal token in the node fuzzers. */
export const FUZZ_INTERNAL_TOKEN = 'i'.repeat(40);

export interface FuzzAuth {
  readonly tokens: { readonly reader: string; readonly writer: string };
  readonly authenticator: Authenticator;
}

/** A reader and a writer token (named `<prefix>-reader`, `<prefix>-writer`) and an authenticator that knows them and FUZZ_INTERNAL_TOKEN. */
export async function fuzzAuth(prefix: string): Promise<FuzzAuth> {
  const [reader, writer] = [await createToken(`${prefix}-reader`), await createToken(`${prefix}-writer`)];
  const authenticator = new Authenticator({
    tokens: [
      { name: `${prefix}-reader`, role: 'reader', hash: reader.hash },
      { name: `${prefix}-writer`, role: 'writer', hash: writer.hash },
    ],
    internalToken: FUZZ_INTERNAL_TOKEN,
    openMetrics: false,
  });
  return { tokens: { reader: reader.token, writer: writer.token }, authenticator };
}
