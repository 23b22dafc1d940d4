/**
 * Which kind of shard move an applied event is, for `torua_shard_moves_total`
 * and `torua_recoveries_total`. A promotion and a first assignment say so in
 * their kind; a `shard-moved` event is told apart by the rule of the
 * placement planner that proposed it, which every planner reason starts with
 * (`repair:`, `trim:`, `balance:`); a move by hand or a forced removal is `move`.
 */
import type { RoutingEvent } from '../routing/index.js';

export type ShardMoveKind = 'assign' | 'promote' | 'add_replica' | 'remove_replica' | 'rebalance' | 'move';

const RULE_KINDS: readonly (readonly [prefix: string, kind: ShardMoveKind])[] = [
  ['repair:', 'add_replica'],
  ['trim:', 'remove_replica'],
  ['balance:', 'rebalance'],
];

export function shardMoveKind(e: RoutingEvent): ShardMoveKind | undefined {
  switch (e.kind) {
    case 'shard-assigned':
      return 'assign';
    case 'shard-promoted':
      return 'promote';
    case 'shard-moved':
      return RULE_KINDS.find(([prefix]) => e.reason.startsWith(prefix))?.[1] ?? 'move';
    default:
      return undefined;
  }
}

/** A recovery starts with a move that adds a copy to fill (repair, balance) and completes when the copy joins the in-sync set. */
export function recoveryOutcome(e: RoutingEvent): 'started' | 'completed' | undefined {
  if (e.kind === 'shard-in-sync') return 'completed';
  const kind = shardMoveKind(e);
  return kind === 'add_replica' || kind === 'rebalance' ? 'started' : undefined;
}
