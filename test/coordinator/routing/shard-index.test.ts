import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardIndex, shardsHeldBy, type ShardRecord } from '../../../src/coordinator/routing/index.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];

function record(id: number, epoch: number, copies: readonly string[]): ShardRecord {
  const [primary = null, ...replicas] = copies;
  return { id, primary, replicas: [...replicas].sort(), inSync: primary === null ? [] : [primary], epoch, state: primary === null ? 'unassigned' : 'active' };
}

/** What the index must hold, by a plain scan. */
function expected(shards: readonly ShardRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of shards) for (const id of [s.primary, ...s.replicas]) if (id !== null) out.set(id, [...(out.get(id) ?? []), s.id]);
  return out;
}

function held(shards: readonly ShardRecord[]): Map<string, number[]> {
  const index = shardIndex(shards);
  return new Map([...index.byNode].map(([id, list]) => [id, list.map((s) => s.id)]));
}

const copiesArb = fc.uniqueArray(fc.constantFrom(...NODES), { maxLength: 3 });

describe('shard index', () => {
  it('lists each node’s shards in shard order, with every epoch, through any sequence of records replaced (few at a time or many)', () => {
    fc.assert(
      fc.property(
        fc.array(copiesArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.array(fc.tuple(fc.nat(), copiesArb), { minLength: 1, maxLength: 12 }), { maxLength: 12 }),
        (initial, changes) => {
          let shards: readonly ShardRecord[] = initial.map((c, i) => record(i, 1, c));
          const seen: { shards: readonly ShardRecord[]; expect: Map<string, number[]> }[] = [];
          for (const change of [[], ...changes]) {
            const next = [...shards];
            for (const [at, copies] of change) {
              const i = at % next.length;
              next[i] = record(i, next[i]!.epoch + 1, copies);
            }
            shards = change.length === 0 ? shards : next;
            expect(held(shards)).toEqual(expected(shards));
            expect(shardIndex(shards).epochs).toEqual(shards.map((s) => s.epoch));
            for (const id of NODES) expect(shardsHeldBy(shards, id).map((s) => s.id)).toEqual(expected(shards).get(id) ?? []);
            seen.push({ shards, expect: expected(shards) });
          }
          // An older list's index is left whole by the ones built from it.
          for (const s of seen) expect(held(s.shards)).toEqual(s.expect);
        },
      ),
      { seed: 20261207, numRuns: 300 },
    );
  });

  it('serves one index per list: asking again costs nothing', () => {
    const shards = [record(0, 1, ['n1', 'n2']), record(1, 1, ['n2'])];
    expect(shardIndex(shards)).toBe(shardIndex(shards));
    expect(shardsHeldBy(shards, 'n9')).toEqual([]);
  });
});
