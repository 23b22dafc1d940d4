/** Handlers of the planned operations: maintenance of many nodes at once, and evacuation. */
import { withNode } from './apply-node.js';
import { sameValue } from './canonical-json.js';
import type { CancelEvacuation, FinishEvacuation, SetEvacuationStall, SetMaintenance, StartEvacuation } from './commands.js';
import type { EventDraft } from './events.js';
import { nodeById, shardIdsOnNode } from './lookup.js';
import { acceptsNewCopies } from './node-status.js';
import { withStatus } from './node-transition.js';
import { reject, unchanged, type Outcome } from './outcome.js';
import type { NodeRecord, NodeStatus, RoutingState } from './types.js';

/** Where an operator may start maintenance or an evacuation: a node that serves and nobody asked anything of. */
const PLANNABLE: readonly NodeStatus[] = ['unknown', 'healthy', 'maintenance'];

const untilText = (untilMs: number | null) => (untilMs === null ? '' : ` until ${new Date(untilMs).toISOString()}`);

/**
 * Why the nodes outside maintenance could not hold `replicationFactor`
 * copies of every shard, or undefined when they can: at least that many
 * nodes taking new copies, with room for all the copies between them.
 */
function tooFewNodes(state: RoutingState, leaving: ReadonlySet<string>): string | undefined {
  const factor = state.config.settings.replicationFactor;
  const wanted = factor * state.shards.length;
  const staying = Object.values(state.nodes).filter((n) => !leaving.has(n.id) && acceptsNewCopies(n.status));
  const room = staying.reduce((sum, n) => sum + n.capacity, 0);
  if (staying.length >= factor && room >= wanted) return undefined;
  const names = staying.map((n) => n.id).join(', ') || 'none';
  return (
    `maintenance of ${[...leaving].join(', ')} would leave ${staying.length} node${staying.length === 1 ? '' : 's'} taking copies (${names}) ` +
    `with room for ${room} copies; ${state.shards.length} shards × replicationFactor ${factor} need at least ${factor} nodes with room for ${wanted} copies`
  );
}

function startMaintenance(state: RoutingState, c: SetMaintenance, nodes: readonly NodeRecord[]): Outcome {
  for (const n of nodes) {
    if (!PLANNABLE.includes(n.status)) {
      return reject('WRONG_STATUS', `node ${n.id} is ${n.status}: maintenance starts from unknown or healthy (an evacuation ends in maintenance by itself; cancel it first)`, 'nodes');
    }
  }
  const refused = tooFewNodes(state, new Set(nodes.map((n) => n.id)));
  if (refused !== undefined) return reject('TOO_FEW_NODES', refused, 'nodes');
  const untilMs = c.ttlMs === undefined ? null : c.atMs + c.ttlMs;
  let next = state;
  const changed: NodeRecord[] = [];
  const events: EventDraft[] = [];
  for (const old of nodes) {
    const window = { reason: c.reason, sinceMs: old.maintenance?.sinceMs ?? c.atMs, untilMs };
    if (old.status === 'maintenance' && old.statusReason === c.reason && sameValue(old.maintenance, window)) {
      changed.push(old); // a repeated request: nothing to change
      continue;
    }
    const node = withStatus(state, old, { status: 'maintenance', atMs: c.atMs, reason: c.reason, window });
    changed.push(node);
    next = withNode(next, node);
    events.push({ kind: 'node-status', node: node.id, message: `${node.id} ${old.status} → maintenance${untilText(untilMs)}` });
  }
  const result = { ok: true as const, changed: events.length > 0, subject: 'nodes' as const, nodes: changed };
  return events.length === 0 ? unchanged(state, result) : { ok: true, state: next, result, events };
}

function endMaintenance(state: RoutingState, c: SetMaintenance, nodes: readonly NodeRecord[]): Outcome {
  let next = state;
  const after: NodeRecord[] = [];
  const events: EventDraft[] = [];
  for (const old of nodes) {
    if (old.status !== 'maintenance') {
      if (c.onlyExpired === true || old.status === 'unknown' || old.status === 'healthy' || old.status === 'unhealthy') {
        after.push(old);
        continue;
      }
      return reject('WRONG_STATUS', `node ${old.id} is ${old.status}, not in maintenance${old.status === 'evacuating' ? ' (cancel the evacuation instead)' : ''}`, 'nodes');
    }
    const window = old.maintenance;
    if (c.onlyExpired === true && (window?.untilMs == null || window.untilMs > c.atMs)) {
      after.push(old);
      continue;
    }
    // Unknown until probed: the health monitor marks it healthy, or declares it failed, like any other node.
    const node = withStatus(state, old, { status: 'unknown', atMs: c.atMs, reason: c.reason });
    after.push(node);
    next = withNode(next, node);
    events.push({ kind: 'node-status', node: node.id, message: `${node.id} maintenance → unknown${c.onlyExpired === true ? ' (its maintenance TTL ran out)' : ''}` });
  }
  const result = { ok: true as const, changed: events.length > 0, subject: 'nodes' as const, nodes: after };
  return events.length === 0 ? unchanged(state, result) : { ok: true, state: next, result, events };
}

/** All named nodes, or a rejection naming the first unknown one. */
function namedNodes(state: RoutingState, ids: readonly string[]): NodeRecord[] | Outcome {
  const nodes: NodeRecord[] = [];
  for (const [i, id] of ids.entries()) {
    const node = nodeById(state, id);
    if (node === undefined) return reject('UNKNOWN_NODE', `no node ${id}`, `nodeIds.${i}`);
    nodes.push(node);
  }
  return nodes;
}

export function setMaintenance(state: RoutingState, c: SetMaintenance): Outcome {
  const nodes = namedNodes(state, c.nodeIds);
  if (!Array.isArray(nodes)) return nodes;
  return c.enabled ? startMaintenance(state, c, nodes) : endMaintenance(state, c, nodes);
}

export function startEvacuation(state: RoutingState, c: StartEvacuation): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  if (old.status === 'evacuating') return unchanged(state, { ok: true, changed: false, subject: 'node', node: old });
  if (!PLANNABLE.includes(old.status)) return reject('WRONG_STATUS', `node ${c.nodeId} is ${old.status}: an evacuation starts from unknown, healthy or maintenance`, 'nodeId');
  const node = withStatus(state, old, { status: 'evacuating', atMs: c.atMs, reason: c.reason });
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: 'node-status', node: node.id, message: `${node.id} ${old.status} → evacuating (${node.evacuation?.total ?? 0} copies to move)` }],
  };
}

export function cancelEvacuation(state: RoutingState, c: CancelEvacuation): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  if (old.status !== 'evacuating') {
    // A repeated cancel finds it already stopped.
    if (old.evacuation?.state === 'cancelled') return unchanged(state, { ok: true, changed: false, subject: 'node', node: old });
    return reject('WRONG_STATUS', `node ${c.nodeId} is ${old.status}, not evacuating`, 'nodeId');
  }
  const node = withStatus(state, old, { status: 'unknown', atMs: c.atMs, reason: c.reason });
  const held = shardIdsOnNode(state, old.id).length;
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: 'node-status', node: node.id, message: `${node.id} evacuating → unknown (evacuation cancelled; it still holds ${held} copies)` }],
  };
}

export function finishEvacuation(state: RoutingState, c: FinishEvacuation): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  if (old.status !== 'evacuating' || old.evacuation === undefined) return reject('STALE_STATUS', `node ${c.nodeId} is ${old.status}, not evacuating`, 'nodeId');
  const held = shardIdsOnNode(state, old.id);
  if (held.length > 0) return reject('NODE_HAS_SHARDS', `node ${c.nodeId} still holds copies of shards ${held.join(', ')}`, 'nodeId');
  const window = { reason: `evacuated: ${old.evacuation.reason}`.slice(0, 1_000), sinceMs: c.atMs, untilMs: null };
  const moved = withStatus(state, old, { status: 'maintenance', atMs: c.atMs, reason: c.reason, window });
  const node: NodeRecord = { ...moved, evacuation: { ...old.evacuation, state: 'done', endedAtMs: c.atMs, stalledReason: null } };
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: 'node-status', node: node.id, message: `${node.id} evacuating → maintenance (evacuated: ${old.evacuation.total} copies moved)` }],
  };
}

export function setEvacuationStall(state: RoutingState, c: SetEvacuationStall): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  const evacuation = old.evacuation;
  if (old.status !== 'evacuating' || evacuation === undefined || evacuation.startedAtMs !== c.startedAtMs) {
    return reject('STALE_STATUS', `node ${c.nodeId} has no evacuation running since ${c.startedAtMs}`, 'startedAtMs');
  }
  if (evacuation.stalledReason === c.stalledReason) return unchanged(state, { ok: true, changed: false, subject: 'node', node: old });
  const node: NodeRecord = { ...old, evacuation: { ...evacuation, stalledReason: c.stalledReason } };
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: 'node-evacuation', node: node.id, message: c.stalledReason === null ? `${node.id}'s evacuation goes on` : `${node.id}'s evacuation is stalled: ${c.stalledReason}` }],
  };
}
