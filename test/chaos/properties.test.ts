import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../scripts/chaos/history.js';
import { checkLinearizability, findLostWrites } from '../../scripts/chaos/linearizability/index.js';
import { partitionByKey, prepareKey } from '../../scripts/chaos/linearizability/key-history.js';
import { searchRegister } from '../../scripts/chaos/linearizability/search.js';
import { impossibleValues, rng, simulateRegisterRun } from './register-sim.js';

/** A simulated history with one read's value replaced by one it could not have returned; `key` is that read's key. */
function mutatedRun(o: Parameters<typeof simulateRegisterRun>[0], choice: number): { history: HistoryOp[]; key: string } | undefined {
  const { history } = simulateRegisterRun(o);
  const reads = history.flatMap((op, i) => (op.op === 'get' && op.outcome === 'ok' ? [i] : []));
  if (reads.length === 0) return undefined;
  const random = rng(choice);
  const index = reads[Math.floor(random() * reads.length)]!;
  const values = impossibleValues(history, index);
  const value = values[Math.floor(random() * values.length)]!;
  return { history: history.map((op, i) => (i === index ? { ...op, value } : op)), key: history[index]!.key };
}

const runs = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  clients: fc.integer({ min: 1, max: 8 }),
  opsPerClient: fc.integer({ min: 1, max: 30 }),
  keys: fc.integer({ min: 1, max: 3 }),
  unknownRate: fc.constantFrom(0, 0.1, 0.3),
  failRate: fc.constantFrom(0, 0.1),
});

describe('linearizability checker against a simulated linearizable store', () => {
  it('accepts every history a linearizable register produces, and finds no lost write in its final state', () => {
    fc.assert(
      fc.property(runs, (o) => {
        const { history, finalValues } = simulateRegisterRun(o);
        const r = checkLinearizability(history);
        expect(r.violations.map((v) => v.reason)).toEqual([]);
        expect(r.verdict).toBe('yes');
        expect(findLostWrites(history, finalValues)).toEqual({ lost: [], unread: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('rejects the same history once one read returns a value that could not be current in its interval', () => {
    fc.assert(
      fc.property(runs, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (o, choice) => {
        const m = mutatedRun(o, choice);
        fc.pre(m !== undefined);
        const r = checkLinearizability(m!.history);
        expect(r.verdict).toBe('no');
        expect(r.violations.map((v) => v.key)).toEqual([m!.key]);
        // The witness is a real one: a few operations, a read among them, not linearizable by themselves.
        const v = r.violations[0]!;
        expect(v.ops.some((op) => op.op === 'get')).toBe(true);
        expect(checkLinearizability([...v.ops]).verdict).toBe('no');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects them by the search alone too, without the one-pass check for certain violations', () => {
    fc.assert(
      fc.property(runs, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (o, choice) => {
        const m = mutatedRun(o, choice);
        fc.pre(m !== undefined);
        const kh = prepareKey(m!.history, m!.key, partitionByKey(m!.history).get(m!.key)!);
        const r = searchRegister(kh.ops, { maxStates: 10_000_000, deadline: Infinity });
        expect(r.verdict).toBe('violation');
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
