// Builders and assertions shared by the routing-table tests.
import { expect } from 'vitest';
import {
  apply,
  initialState,
  stateHash,
  type ApplyMeta,
  type ApplyResult,
  type Command,
  type CommandOf,
  type InitialStateInput,
  type RejectCode,
  type RoutingState,
} from '../../../src/coordinator/routing/index.js';

export const T0 = 1_700_000_000_000;

let nextIndex = 1;
/** A fresh Raft position for each apply, so events show which entry made them. */
export const meta = (): ApplyMeta => ({ index: nextIndex++, term: 3 });

export function fresh(overrides: Partial<InitialStateInput> = {}): RoutingState {
  return initialState({ clusterId: 'test', shards: 4, settings: {}, ...overrides });
}

type Without<C, K extends string> = C extends unknown ? Omit<C, K> : never;
type Body<T extends Command['type']> = Without<CommandOf<T>, 'type' | 'atMs' | 'reason'> & { atMs?: number; reason?: string };

/** A command of `type` with `atMs` and `reason` filled in. */
export function cmd<T extends Command['type']>(type: T, body: Body<T>): CommandOf<T> {
  return { type, atMs: T0, reason: `test ${type}`, ...body } as unknown as CommandOf<T>;
}

export const register = (nodeId: string, extra: Partial<Body<'registerNode'>> = {}) =>
  cmd('registerNode', { nodeId, address: `127.0.0.1:${8080 + Number(nodeId.replace(/\D/g, '') || 0)}`, capacity: 8, version: '0.1.0', ...extra });

export const healthy = (nodeId: string) => cmd('setNodeStatus', { nodeId, status: 'healthy' });

export const unhealthy = (nodeId: string, confirmedBy = ['c1', 'c2'], voters = 3) =>
  cmd('setNodeStatus', { nodeId, status: 'unhealthy', confirmedBy, voters });

export const assign = (shardId: number, expectedEpoch: number, primary: string, replicas: string[] = []) =>
  cmd('assignShard', { shardId, expectedEpoch, primary, replicas });

export const move = (shardId: number, expectedEpoch: number, primary: string | null, replicas: string[]) =>
  cmd('moveShard', { shardId, expectedEpoch, primary, replicas });

/** Applies commands that must all succeed; fails the test naming the first that did not. */
export function applyAll(state: RoutingState, commands: readonly Command[]): RoutingState {
  for (const c of commands) {
    const out = apply(state, c, meta());
    if (!out.result.ok) throw new Error(`${c.type} was rejected: ${out.result.code} ${out.result.message}`);
    state = out.state;
  }
  return state;
}

/** Applies one command that must succeed, returning the state and the result. */
export function applyOk(state: RoutingState, c: Command): { state: RoutingState; result: Extract<ApplyResult, { ok: true }> } {
  const out = apply(state, c, meta());
  if (!out.result.ok) throw new Error(`${c.type} was rejected: ${out.result.code} ${out.result.message}`);
  return { state: out.state, result: out.result };
}

/** Deep-freezes a state, so any mutation by apply throws (ES modules are strict mode). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The command is refused with `code`, and the state comes back as the very
 * same object with the same hash (and was not mutated: it is frozen).
 */
export function expectRejected(state: RoutingState, c: unknown, code: RejectCode, message?: RegExp): Extract<ApplyResult, { ok: false }> {
  const before = stateHash(state);
  const snapshot = JSON.stringify(state);
  const out = apply(deepFreeze(state), c, meta());
  expect(out.result.ok, JSON.stringify(out.result)).toBe(false);
  if (out.result.ok) throw new Error('unreachable');
  expect(out.result.code, out.result.message).toBe(code);
  if (message) expect(out.result.message).toMatch(message);
  expect(out.state).toBe(state);
  expect(stateHash(out.state)).toBe(before);
  expect(JSON.stringify(out.state)).toBe(snapshot);
  return out.result;
}

/** Nodes (n1, n2, n3 unless given), registered and healthy with capacity 8, on a 4-shard table. */
export function withNodes(ids: readonly string[] = ['n1', 'n2', 'n3'], overrides: Partial<InitialStateInput> = {}): RoutingState {
  return applyAll(fresh(overrides), ids.flatMap((id) => [register(id), healthy(id)]));
}
