/**
 * Which shards each node holds a copy of, kept per shard list. A node's
 * grant (four a second per node), its API view and every write's answer ask
 * for one node's shards; scanning 4,096 shards for each cost the leader
 * 0.25 ms a grant, a whole core at 1,000 nodes. The table is immutable and
 * keeps its shard list object while no shard changes (a label or status
 * change does not touch it), and a command that moves shards replaces only
 * their records: a new list's index is the last one's with the changed
 * records moved, not a new scan.
 */
import { copiesOf } from './shard-state.js';
import type { NodeId, ShardRecord } from './types.js';

export interface ShardIndex {
  /** Per node, the records of the shards it holds a copy of (primary or replica), in shard order. */
  readonly byNode: ReadonlyMap<NodeId, readonly ShardRecord[]>;
  /** The epoch of every shard, by id. */
  readonly epochs: readonly number[];
}

const indexes = new WeakMap<readonly ShardRecord[], ShardIndex>();
/** The list indexed last: a new list is most often it with a few records replaced. */
let last: { readonly shards: readonly ShardRecord[]; readonly index: ShardIndex } | undefined;
/** Beyond this share of changed records a new scan is as cheap as moving them. */
const INCREMENTAL_SHARE = 1 / 8;
const NONE: readonly ShardRecord[] = [];

export function shardIndex(shards: readonly ShardRecord[]): ShardIndex {
  const known = indexes.get(shards);
  if (known !== undefined) return known;
  const index = (last !== undefined && updated(last.shards, last.index, shards)) || scanned(shards);
  indexes.set(shards, index);
  last = { shards, index };
  return index;
}

/** The shards `id` holds a copy of, in shard order. */
export function shardsHeldBy(shards: readonly ShardRecord[], id: NodeId): readonly ShardRecord[] {
  return shardIndex(shards).byNode.get(id) ?? NONE;
}

function scanned(shards: readonly ShardRecord[]): ShardIndex {
  const byNode = new Map<NodeId, ShardRecord[]>();
  const epochs: number[] = new Array<number>(shards.length);
  for (let i = 0; i < shards.length; i++) {
    const s = shards[i]!;
    epochs[i] = s.epoch;
    if (s.primary !== null) add(byNode, s.primary, s);
    for (const r of s.replicas) add(byNode, r, s);
  }
  return { byNode, epochs };
}

function add(byNode: Map<NodeId, ShardRecord[]>, id: NodeId, s: ShardRecord): void {
  const list = byNode.get(id);
  if (list === undefined) byNode.set(id, [s]);
  else list.push(s);
}

/** `shards` indexed from `before`'s index by moving the records that changed; undefined when a scan is cheaper. */
function updated(before: readonly ShardRecord[], index: ShardIndex, shards: readonly ShardRecord[]): ShardIndex | undefined {
  if (before.length !== shards.length) return undefined;
  const changed: number[] = [];
  const most = shards.length * INCREMENTAL_SHARE;
  for (let i = 0; i < shards.length; i++) {
    if (shards[i] !== before[i]) {
      changed.push(i);
      if (changed.length > most) return undefined;
    }
  }
  // The lists of the nodes a changed record names are copied before they change: the old index stays whole.
  const byNode = new Map(index.byNode);
  const copied = new Map<NodeId, ShardRecord[]>();
  const listOf = (id: NodeId): ShardRecord[] => {
    let list = copied.get(id);
    if (list === undefined) {
      list = [...(byNode.get(id) ?? NONE)];
      copied.set(id, list);
      byNode.set(id, list);
    }
    return list;
  };
  const epochs = [...index.epochs];
  for (const i of changed) {
    const old = before[i]!;
    const now = shards[i]!;
    epochs[i] = now.epoch;
    for (const id of copiesOf(old)) {
      const list = listOf(id);
      const at = list.findIndex((s) => s.id === old.id);
      if (at >= 0) list.splice(at, 1);
    }
    for (const id of copiesOf(now)) {
      const list = listOf(id);
      let at = list.length;
      while (at > 0 && list[at - 1]!.id > now.id) at--;
      list.splice(at, 0, now);
    }
  }
  for (const [id, list] of copied) if (list.length === 0) byNode.delete(id);
  return { byNode, epochs };
}
