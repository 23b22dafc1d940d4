/** Handlers of the commands that change data-node records. */
import { sameValue } from './canonical-json.js';
import type { RegisterNode, RemoveNode, SetNodeLabels, SetNodeStatus } from './commands.js';
import { nodeById, shardIdsOnNode } from './lookup.js';
import { healthyShareKept, statusRules } from './node-status.js';
import { withStatus } from './node-transition.js';
import { reject, unchanged, type Outcome } from './outcome.js';
import type { NodeRecord, RoutingState } from './types.js';

export function withNode(state: RoutingState, node: NodeRecord): RoutingState {
  return { ...state, nodes: { ...state.nodes, [node.id]: node } };
}

const labelText = (labels: Readonly<Record<string, string>>): string =>
  Object.keys(labels).length === 0
    ? '{}'
    : Object.keys(labels)
        .sort()
        .map((k) => `${k}=${labels[k]}`)
        .join(',');

/**
 * New id: a node in status `unknown`. Known id: address, capacity and version
 * are refreshed (a restart may change them), labels only when given; a node
 * that had left rejoins as `unknown`, as a new registration. A different
 * identity for a known id that has not left is a second process claiming it,
 * and refused.
 */
export function registerNode(state: RoutingState, c: RegisterNode): Outcome {
  const old = nodeById(state, c.nodeId);
  // A node that left holds nothing: it may come back as a new process (a wiped data directory) under the same id.
  const rejoin = old === undefined || old.status === 'left';
  if (!rejoin && old.identity !== null && c.identity !== undefined && c.identity !== old.identity) {
    return reject('IDENTITY_CONFLICT', `node ${c.nodeId} is registered by another process (identity differs): stop the impostor, or remove the node first`, 'identity');
  }
  const node: NodeRecord = {
    id: c.nodeId,
    address: c.address,
    capacity: c.capacity,
    version: c.version,
    labels: c.labels ?? old?.labels ?? {},
    identity: rejoin ? (c.identity ?? null) : (old.identity ?? c.identity ?? null),
    status: rejoin ? 'unknown' : old.status,
    registeredAtMs: rejoin ? c.atMs : old.registeredAtMs,
    statusChangedAtMs: rejoin ? c.atMs : old.statusChangedAtMs,
    statusReason: rejoin ? c.reason : old.statusReason,
    // A restart keeps what the operator asked of the node (a maintenance window, an evacuation's record).
    ...(rejoin || old.maintenance === undefined ? {} : { maintenance: old.maintenance }),
    ...(rejoin || old.restart === undefined ? {} : { restart: old.restart }),
    ...(rejoin || old.evacuation === undefined ? {} : { evacuation: old.evacuation }),
  };
  if (old !== undefined && sameValue(old, node)) return unchanged(state, { ok: true, changed: false, subject: 'node', node: old });
  const message =
    old === undefined
      ? `${node.id} registered at ${node.address} (capacity ${node.capacity}, version ${node.version || '?'})`
      : rejoin
        ? `${node.id} rejoined at ${node.address}`
        : `${node.id} re-registered at ${node.address} (capacity ${node.capacity}, version ${node.version || '?'})`;
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: rejoin ? 'node-registered' : 'node-updated', node: node.id, message }],
  };
}

export function setNodeLabels(state: RoutingState, c: SetNodeLabels): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  if (sameValue(old.labels, c.labels)) return unchanged(state, { ok: true, changed: false, subject: 'node', node: old });
  const node: NodeRecord = { ...old, labels: c.labels };
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: 'node-labels', node: node.id, message: `${node.id} labels ${labelText(old.labels)} → ${labelText(node.labels)}` }],
  };
}

/** A failure decision needs a strict majority of the voters (the leader among them) to have seen the node fail. */
export const majorityOf = (voters: number): number => Math.floor(voters / 2) + 1;

/**
 * Storm guard (DESIGN.md §5): refuse a failure decision that would leave fewer
 * than `minHealthyFraction` of the counted nodes healthy (node-status.ts says
 * which count: not those that left, nor those in planned operations).
 * Checked here as well as by the leader, because two decisions proposed on
 * the same table could each pass alone and not together.
 */
function stormGuard(state: RoutingState, c: SetNodeStatus, old: NodeRecord): string | undefined {
  const nodes = Object.values(state.nodes).filter((n) => statusRules(n.status).healthCount !== 'excluded' || n.id === old.id);
  const healthyAfter = nodes.filter((n) => statusRules(n.status).healthCount === 'healthy' && n.id !== old.id).length;
  const fraction = state.config.settings.minHealthyFraction;
  if (healthyShareKept(healthyAfter, nodes.length, fraction)) return undefined;
  return `marking ${c.nodeId} unhealthy would leave ${healthyAfter} of ${nodes.length} nodes healthy, below minHealthyFraction ${fraction}`;
}

export function setNodeStatus(state: RoutingState, c: SetNodeStatus): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  if (c.expectedStatus !== undefined && c.expectedStatus !== old.status) {
    return reject('STALE_STATUS', `node ${c.nodeId} is ${old.status}, the command expected ${c.expectedStatus}`, 'expectedStatus');
  }
  if (c.status === 'unhealthy' && c.confirmedBy.length < majorityOf(c.voters)) {
    return reject(
      'NO_MAJORITY',
      `marking ${c.nodeId} unhealthy needs ${majorityOf(c.voters)} of ${c.voters} replicas to confirm, got ${c.confirmedBy.length} (${c.confirmedBy.join(', ')})`,
      'confirmedBy',
    );
  }
  if (old.status === c.status) return unchanged(state, { ok: true, changed: false, subject: 'node', node: old });
  if (old.status === 'left') return reject('INVALID_TRANSITION', `node ${c.nodeId} has left; it comes back by registering again`, 'status');
  if (c.status === 'restarting') return reject('INVALID_TRANSITION', `a node turns restarting only through a rolling upgrade's step`, 'status');
  if (c.status === 'left') {
    const held = shardIdsOnNode(state, c.nodeId);
    if (held.length > 0) return reject('NODE_HAS_SHARDS', `node ${c.nodeId} still holds copies of shards ${held.join(', ')}: move them first`);
  }
  if (c.status === 'unhealthy') {
    const refused = stormGuard(state, c, old);
    if (refused !== undefined) return reject('STORM_GUARD', refused);
  }
  const node = withStatus(state, old, { status: c.status, atMs: c.atMs, reason: c.reason });
  const confirmed = c.status === 'unhealthy' ? ` (confirmed by ${c.confirmedBy.join(', ')} of ${c.voters} voters)` : '';
  return {
    ok: true,
    state: withNode(state, node),
    result: { ok: true, changed: true, subject: 'node', node },
    events: [{ kind: 'node-status', node: node.id, message: `${node.id} ${old.status} → ${node.status}${confirmed}` }],
  };
}

export function removeNode(state: RoutingState, c: RemoveNode): Outcome {
  const old = nodeById(state, c.nodeId);
  if (old === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  const held = shardIdsOnNode(state, c.nodeId);
  if (held.length > 0) {
    return reject('NODE_HAS_SHARDS', `node ${c.nodeId} still holds copies of shards ${held.join(', ')}: promote or move them first`);
  }
  const { [c.nodeId]: _removed, ...nodes } = state.nodes;
  return {
    ok: true,
    state: { ...state, nodes },
    result: { ok: true, changed: true, subject: 'nodeRemoved', node: old },
    events: [{ kind: 'node-removed', node: old.id, message: `${old.id} (${old.address}, ${old.status}) removed from the table` }],
  };
}
