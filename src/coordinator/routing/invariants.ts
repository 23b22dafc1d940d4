/**
 * Cross-field rules every reachable state obeys. `apply` keeps them by
 * construction; `deserializeState` checks them, so a snapshot that parses but
 * could never have been produced is refused rather than served; the property
 * tests check them after every step.
 */
import { copiesOf, shardStateOf } from './shard-state.js';
import type { RoutingState } from './types.js';

const isSortedDistinct = (ids: readonly string[]) => ids.every((id, i) => i === 0 || (ids[i - 1] as string) < id);

export function invariantViolations(state: RoutingState): string[] {
  const out: string[] = [];
  for (const [key, node] of Object.entries(state.nodes)) {
    if (node.id !== key) out.push(`nodes.${key} has id ${node.id}`);
    if ((node.status === 'maintenance') !== (node.maintenance !== undefined)) out.push(`nodes.${key} is ${node.status} with${node.maintenance ? '' : 'out'} a maintenance window`);
    if ((node.status === 'evacuating') !== (node.evacuation?.state === 'running')) out.push(`nodes.${key} is ${node.status}, its evacuation ${node.evacuation?.state ?? 'absent'}`);
  }
  for (const [key, member] of Object.entries(state.members)) if (member.id !== key) out.push(`members.${key} has id ${member.id}`);

  state.shards.forEach((shard, i) => {
    const at = `shards.${i}`;
    if (shard.id !== i) out.push(`${at} has id ${shard.id}`);
    if (!isSortedDistinct(shard.replicas)) out.push(`${at}.replicas are not sorted and distinct`);
    if (!isSortedDistinct(shard.inSync)) out.push(`${at}.inSync is not sorted and distinct`);
    if (shard.primary !== null && shard.replicas.includes(shard.primary)) out.push(`${at}: primary ${shard.primary} is also a replica`);
    const copies = copiesOf(shard);
    for (const id of shard.inSync) if (!copies.includes(id)) out.push(`${at}.inSync has ${id}, which holds no copy`);
    if (shard.primary !== null && !shard.inSync.includes(shard.primary)) out.push(`${at}: primary ${shard.primary} is not in sync`);
    for (const id of copies) if (!Object.hasOwn(state.nodes, id)) out.push(`${at} has a copy on unknown node ${id}`);
    const expected = shardStateOf(shard.primary, shard.replicas, shard.inSync);
    if (shard.state !== expected) out.push(`${at}.state is ${shard.state}, its copies say ${expected}`);
  });

  const { capacity, nextSeq, items } = state.events;
  if (items.length > capacity) out.push(`events hold ${items.length} items, capacity ${capacity}`);
  items.forEach((e, i) => {
    if (e.seq !== nextSeq - items.length + i) out.push(`events.items.${i} has seq ${e.seq}, expected ${nextSeq - items.length + i}`);
  });
  return out;
}
