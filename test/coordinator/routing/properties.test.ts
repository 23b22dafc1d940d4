// Property tests: random command sequences, including stale, invalid and
// conflicting ones, applied the way replicas apply them.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  apply,
  applyEntry,
  applyMemberChange,
  decodeCommand,
  deserializeState,
  encodeCommand,
  encodeMemberContext,
  invariantViolations,
  serializeState,
  stateHash,
  type ApplyMeta,
  type ApplyOutput,
  type Command,
  type MemberChange,
  type RoutingState,
} from '../../../src/coordinator/routing/index.js';
import { T0, deepFreeze, fresh } from './helpers.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;
const SHARDS = 3;
const STATUSES = ['unknown', 'healthy', 'unhealthy', 'maintenance', 'evacuating', 'draining', 'left'] as const;

/** What to do, before it is turned into a command against the current table (to hit current epochs often). */
type Intent =
  | { k: 'register'; node: string; capacity: number; identity: 'a' | 'b' | undefined; zone: string | undefined }
  | { k: 'labels'; node: string; zone: string }
  | { k: 'status'; node: string; status: (typeof STATUSES)[number]; confirmations: number; expect: boolean }
  | { k: 'remove'; node: string }
  | { k: 'assign' | 'move'; shard: number; epoch: number | 'current'; primary: Pick | null; replicas: string[]; clean: boolean }
  | { k: 'inSync'; shard: number; epoch: number | 'current'; node: Pick; value: boolean }
  | { k: 'promote'; shard: number; epoch: number | 'current'; node: Pick; keep: boolean }
  | { k: 'settings'; version: number | 'current'; patch: object }
  | { k: 'member'; type: MemberChange['type']; id: string; context: boolean };

const node = fc.constantFrom(...NODES);
/** A node by name, or the n-th of the shard's copies that fit the command (so that many commands are valid). */
type Pick = string | { nth: number };
const pick: fc.Arbitrary<Pick> = fc.oneof(node, fc.record({ nth: fc.nat(3) }));
// Now and then SHARDS itself, which does not exist.
const shard = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: SHARDS - 1 }) }, { weight: 1, arbitrary: fc.constant(SHARDS) });
/** Mostly a valid copy list, sometimes one with the primary repeated as a replica. */
const clean = fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const epoch = fc.oneof({ weight: 4, arbitrary: fc.constant('current' as const) }, { weight: 1, arbitrary: fc.nat(6) });

const intent: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('register' as const), node, capacity: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 2, max: 4 }) }, fc.nat(1)), identity: fc.constantFrom('a' as const, 'b' as const, undefined), zone: fc.constantFrom('z1', 'z2', undefined) }) },
  fc.record({ k: fc.constant('labels' as const), node, zone: fc.constantFrom('z1', 'z2') }),
  { weight: 3, arbitrary: fc.record({ k: fc.constant('status' as const), node, status: fc.oneof({ weight: 3, arbitrary: fc.constant('healthy' as const) }, { weight: 4, arbitrary: fc.constantFrom(...STATUSES) }), confirmations: fc.nat(3), expect: fc.boolean() }) },
  fc.record({ k: fc.constant('remove' as const), node }),
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constantFrom('assign' as const, 'move' as const, 'move' as const),
      shard,
      epoch,
      primary: fc.option(pick, { freq: 6 }),
      replicas: fc.subarray([...NODES], { maxLength: 3 }),
      clean,
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('inSync' as const), shard, epoch, node: pick, value: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('promote' as const), shard, epoch, node: pick, keep: fc.boolean() }) },
  fc.record({
    k: fc.constant('settings' as const),
    version: fc.oneof(fc.constant('current' as const), fc.nat(3)),
    patch: fc.constantFrom({ replicationFactor: 1 }, { replicationFactor: 3 }, { minHealthyFraction: 0 }, { health: { leaseMs: 2_000 } }, { replicationFactor: 0 }, {}),
  }),
  fc.record({ k: fc.constant('member' as const), type: fc.constantFrom('addLearner' as const, 'promote' as const, 'remove' as const), id: fc.constantFrom('c1', 'c4'), context: fc.boolean() }),
);

type Op = { kind: 'command'; command: Command } | { kind: 'member'; change: MemberChange };

/** Turns an intent into the concrete operation a leader would propose on `state`. */
function concrete(state: RoutingState, i: Intent, atMs: number): Op {
  const base = { atMs, reason: `prop ${i.k}` };
  const epochOf = (s: number, e: number | 'current') => (e === 'current' ? (state.shards[s]?.epoch ?? 0) : e);
  const resolve = (p: Pick, candidates: readonly string[]): string =>
    typeof p === 'string' ? p : (candidates[p.nth % Math.max(1, candidates.length)] ?? NODES[p.nth % NODES.length]!);
  const sh = state.shards[i.k === 'assign' || i.k === 'move' || i.k === 'inSync' || i.k === 'promote' ? i.shard : 0];
  const copies = sh ? [...(sh.primary === null ? [] : [sh.primary]), ...sh.replicas] : [];
  const inSync = sh?.inSync ?? [];
  switch (i.k) {
    case 'register':
      return {
        kind: 'command',
        command: {
          type: 'registerNode',
          ...base,
          nodeId: i.node,
          address: `127.0.0.1:${8000 + i.capacity}`,
          capacity: i.capacity,
          version: '1',
          ...(i.zone ? { labels: { zone: i.zone } } : {}),
          ...(i.identity ? { identity: i.identity } : {}),
        },
      };
    case 'labels':
      return { kind: 'command', command: { type: 'setNodeLabels', ...base, nodeId: i.node, labels: { zone: i.zone } } };
    case 'status': {
      const expectedStatus = i.expect ? state.nodes[i.node]?.status : undefined;
      const common = { type: 'setNodeStatus' as const, ...base, nodeId: i.node, ...(expectedStatus ? { expectedStatus } : {}) };
      return {
        kind: 'command',
        command:
          i.status === 'unhealthy'
            ? { ...common, status: 'unhealthy', confirmedBy: ['c1', 'c2', 'c3'].slice(0, i.confirmations), voters: 3 }
            : { ...common, status: i.status },
      };
    }
    case 'remove':
      return { kind: 'command', command: { type: 'removeNode', ...base, nodeId: i.node } };
    case 'assign':
    case 'move': {
      const primary = i.primary === null ? null : resolve(i.primary, i.k === 'move' ? inSync : NODES);
      const replicas = i.clean ? i.replicas.filter((r) => r !== primary) : i.replicas;
      const fields = { ...base, shardId: i.shard, expectedEpoch: epochOf(i.shard, i.epoch), replicas };
      return {
        kind: 'command',
        command: i.k === 'assign' ? { type: 'assignShard', ...fields, primary: primary ?? 'n1' } : { type: 'moveShard', ...fields, primary },
      };
    }
    case 'inSync':
      return { kind: 'command', command: { type: 'setInSync', ...base, shardId: i.shard, expectedEpoch: epochOf(i.shard, i.epoch), nodeId: resolve(i.node, copies.filter((c) => inSync.includes(c) !== i.value)), inSync: i.value } };
    case 'promote':
      return { kind: 'command', command: { type: 'promotePrimary', ...base, shardId: i.shard, expectedEpoch: epochOf(i.shard, i.epoch), nodeId: resolve(i.node, inSync.filter((c) => c !== sh?.primary)), ...(i.keep ? { keepInSync: true } : {}) } };
    case 'settings':
      return {
        kind: 'command',
        command: { type: 'updateSettings', ...base, expectedVersion: i.version === 'current' ? state.config.version : i.version, settings: i.patch },
      };
    case 'member': {
      const context = i.context ? encodeMemberContext({ atMs, host: '127.0.0.14', apiPort: 7004, peerPort: 7104 }) : undefined;
      return { kind: 'member', change: context === undefined ? { type: i.type, node: i.id } : { type: i.type, node: i.id, context } };
    }
  }
}

const start = () =>
  fresh({ shards: SHARDS, eventCapacity: 16, members: [1, 2, 3].map((n) => ({ id: `c${n}`, host: `127.0.0.1${n}`, apiPort: 7000 + n, peerPort: 7100 + n })) });

const run = (state: RoutingState, op: Op, meta: ApplyMeta): ApplyOutput =>
  op.kind === 'command' ? apply(state, op.command, meta) : applyMemberChange(state, op.change, meta);

/** Most sequences start from live nodes and placed shards, so that shard commands have something to act on. */
const PRELUDE: Intent[] = [
  ...NODES.flatMap((id): Intent[] => [
    { k: 'register', node: id, capacity: 3, identity: undefined, zone: undefined },
    { k: 'status', node: id, status: 'healthy', confirmations: 0, expect: false },
  ]),
  ...Array.from({ length: SHARDS }, (_, s): Intent => ({ k: 'assign', shard: s, epoch: 'current', primary: NODES[s]!, replicas: [NODES[s + 1]!], clean: true })),
];

const intents = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)), fc.array(intent, { minLength: 1, maxLength: 60, size: 'large' }))
  .map(([prelude, rest]) => (prelude ? [...PRELUDE, ...rest] : rest));

/** Replica A: makes the concrete plan as it goes, checking every step. Returns the ops it applied. */
function leaderRun(intents: readonly Intent[], accepted: Map<string, number>): { ops: Op[]; state: RoutingState } {
  let state = start();
  const ops: Op[] = [];
  intents.forEach((i, n) => {
    const op = concrete(state, i, T0 + n * 10);
    ops.push(op);
    const before = state;
    const hash = stateHash(before);
    const out = run(deepFreeze(before), op, { index: n + 1, term: 1 + Math.floor(n / 10) });
    if (!out.result.ok) {
      expect(out.state).toBe(before);
      expect(stateHash(out.state)).toBe(hash);
    } else {
      const key = op.kind === 'command' ? op.command.type : `member:${op.change.type}`;
      accepted.set(key, (accepted.get(key) ?? 0) + 1);
      expect(out.state.events.nextSeq - before.events.nextSeq).toBe(out.result.changed ? 1 : 0);
      if (!out.result.changed) expect(out.state).toBe(before);
    }
    expect(invariantViolations(out.state)).toEqual([]);
    state = out.state;
  });
  return { ops, state };
}

/** Replica B: the same ops from the log, as bytes, with a snapshot restore at `restoreAt`. */
function followerRun(ops: readonly Op[], restoreAt: number): RoutingState {
  let state = start();
  ops.forEach((op, n) => {
    if (n === restoreAt) state = deserializeState(serializeState(state));
    const meta = { index: n + 1, term: 1 + Math.floor(n / 10) };
    state = op.kind === 'command' ? applyEntry(state, encodeCommand(op.command), meta).state : applyMemberChange(state, op.change, meta).state;
  });
  return state;
}

describe('routing table properties', () => {
  const accepted = new Map<string, number>();

  test('replicas applying the same log agree, through the codec and a snapshot restore; rejections change nothing', () => {
    fc.assert(
      fc.property(intents, fc.nat(100), (list, restoreAt) => {
        const a = leaderRun(list, accepted);
        const b = followerRun(a.ops, restoreAt % (a.ops.length + 1));
        expect(stateHash(b)).toBe(stateHash(a.state));
        expect(b).toEqual(a.state);
        // The same log applied again from scratch: the same hash (determinism).
        expect(stateHash(followerRun(a.ops, -1))).toBe(stateHash(a.state));
        // A snapshot of the end state restores to the same hash.
        expect(stateHash(deserializeState(serializeState(a.state)))).toBe(stateHash(a.state));
      }),
      { numRuns: 100 },
    );
    // The property is not vacuous: every kind of command got through at least once.
    for (const type of ['registerNode', 'setNodeLabels', 'setNodeStatus', 'removeNode', 'assignShard', 'moveShard', 'setInSync', 'promotePrimary', 'updateSettings', 'member:addLearner', 'member:remove']) {
      expect(accepted.get(type) ?? 0, type).toBeGreaterThan(0);
    }
  });

  test('no shard command applies twice: replaying an accepted one is refused as stale or changes nothing', () => {
    fc.assert(
      fc.property(intents, (list) => {
        const { ops } = leaderRun(list, new Map());
        let state = start();
        ops.forEach((op, n) => {
          const meta = { index: n + 1, term: 1 };
          const out = run(state, op, meta);
          state = out.state;
          if (op.kind !== 'command' || !out.result.ok || !out.result.changed) return;
          if (!['assignShard', 'moveShard', 'setInSync', 'promotePrimary', 'updateSettings'].includes(op.command.type)) return;
          const again = apply(state, op.command, { index: n + 1, term: 1 });
          expect(again.state).toBe(state);
          expect(again.result.ok ? 'ok' : again.result.code).toMatch(/^STALE_(EPOCH|VERSION)$/);
        });
      }),
      { numRuns: 100 },
    );
  });

  test('decode(encode(c)) is c for every generated command', () => {
    fc.assert(
      fc.property(intent, (i) => {
        const op = concrete(start(), i, T0);
        if (op.kind !== 'command') return;
        const decoded = decodeCommand(encodeCommand(op.command));
        if (decoded.ok) expect(decoded.command).toEqual(op.command);
        else expect(decoded.code).toBe('INVALID_COMMAND'); // generated on purpose: e.g. a primary repeated as a replica
      }),
    );
  });
});
