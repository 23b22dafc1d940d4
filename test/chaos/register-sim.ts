/**
 * Histories of a real linearizable KV store, for property tests: clients run
 * operations one after another against registers that apply each operation
 * at one instant inside its interval (a write with an unknown outcome maybe
 * later, maybe never; a failed one never). What each get returned is what
 * its key held at that instant.
 */
import type { HistoryOp, HistoryOpKind, HistoryOutcome } from '../../scripts/chaos/history.js';

export interface SimOptions {
  readonly seed: number;
  readonly clients: number;
  readonly opsPerClient: number;
  readonly keys: number;
  /** Chance that a write's outcome is unknown / fail; a get's outcome is not ok with the same chances. */
  readonly unknownRate: number;
  readonly failRate: number;
}

export interface SimulatedRun {
  readonly history: HistoryOp[];
  /** What each key held at the end (every key the run touched). */
  readonly finalValues: Map<string, string | null>;
}

/** mulberry32: small, seedable, good enough to spread test cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (t: number): number => Math.round(t * 1000) / 1000;

interface Pending {
  op: { client: number; op: HistoryOpKind; key: string; value: string | null; invoke: number; complete: number | null; outcome: HistoryOutcome };
  /** When it takes effect; undefined: never. */
  at: number | undefined;
}

export function simulateRegisterRun(o: SimOptions): SimulatedRun {
  const random = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const keys = Array.from({ length: o.keys }, (_, i) => `k${i}`);
  const pending: Pending[] = [];
  let written = 0;
  for (let client = 0; client < o.clients; client++) {
    let t = random() * 5;
    for (let n = 0; n < o.opsPerClient; n++) {
      const invoke = round(t + random() * 3);
      const complete = round(invoke + 0.001 + random() * 8);
      const r = random();
      const kind: HistoryOpKind = r < 0.45 ? 'put' : r < 0.85 ? 'get' : 'delete';
      const value = kind === 'put' ? `v${++written}` : null;
      const fate = random();
      const outcome: HistoryOutcome = fate < o.unknownRate ? 'unknown' : fate < o.unknownRate + o.failRate ? 'fail' : 'ok';
      // Strictly inside the interval, so that ties between times never decide an order.
      let at: number | undefined = invoke + (complete - invoke) * (0.001 + 0.998 * random());
      if (outcome === 'fail' && kind !== 'get') at = undefined;
      // An unknown write took effect or not; if it did, maybe long after the client gave up.
      if (outcome === 'unknown' && kind !== 'get') at = random() < 0.5 ? undefined : invoke + random() * 20;
      const gaveUp = outcome === 'unknown' && random() < 0.5 ? null : complete;
      pending.push({ op: { client, op: kind, key: pick(keys), value, invoke, complete: gaveUp, outcome }, at });
      t = complete;
    }
  }
  const state = new Map<string, string | null>(keys.map((k) => [k, null]));
  const effective = pending.filter((p) => p.at !== undefined).sort((a, b) => a.at! - b.at!);
  for (const p of effective) {
    if (p.op.op === 'get') p.op.value = p.op.outcome === 'ok' ? state.get(p.op.key)! : 'garbage';
    else state.set(p.op.key, p.op.value);
  }
  const history = pending.map((p) => p.op as HistoryOp).sort((a, b) => a.invoke - b.invoke);
  const touched = new Set(history.map((h) => h.key));
  return { history, finalValues: new Map([...state].filter(([k]) => touched.has(k))) };
}

/**
 * Values the get at `index` certainly could not return in any linearization
 * (values are unique): one never written, one only a failed put wrote, one
 * whose put began after the get completed, or one an acknowledged write had
 * replaced before the get began.
 */
export function impossibleValues(history: readonly HistoryOp[], index: number): string[] {
  const get = history[index]!;
  const writes = history.filter((w) => w.key === get.key && w.op !== 'get');
  const out = ['never-written'];
  for (const w of writes) {
    if (w.op !== 'put') continue;
    if (w.outcome === 'fail' || w.invoke > get.complete!) out.push(w.value!);
    else if (w.outcome === 'ok') {
      const replaced = writes.some((n) => n !== w && n.outcome === 'ok' && w.complete! < n.invoke && n.complete! < get.invoke);
      if (replaced) out.push(w.value!);
    }
  }
  return out.filter((v) => v !== get.value);
}
