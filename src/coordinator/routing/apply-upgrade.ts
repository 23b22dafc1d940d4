/** Handlers of a rolling upgrade's commands (upgrade-commands.ts). */
import { withNode } from './apply-node.js';
import type { StartUpgrade, UpgradeStep } from './commands.js';
import type { EventDraft } from './events.js';
import { nodeById } from './lookup.js';
import { withStatus } from './node-transition.js';
import { reject, unchanged, type Outcome } from './outcome.js';
import type { NodeRecord, RoutingState, Upgrade } from './types.js';

/** Where a data node may be restarted from: it serves and nobody asked anything else of it. */
const RESTARTABLE = ['unknown', 'healthy'] as const;

const upgraded = (state: RoutingState, upgrade: Upgrade, events: EventDraft[], node?: NodeRecord): Outcome => ({
  ok: true,
  state: { ...(node === undefined ? state : withNode(state, node)), upgrade },
  result: { ok: true, changed: true, subject: 'upgrade', upgrade },
  events,
});

export function startUpgrade(state: RoutingState, c: StartUpgrade): Outcome {
  const running = state.upgrade;
  if (running?.state === 'running') {
    return reject('UPGRADE_RUNNING', `an upgrade to ${running.to} is running (done ${running.done.length} of ${running.nodes.length + running.coordinators.length}); let it finish or fail first`);
  }
  for (const [i, id] of c.nodes.entries()) if (nodeById(state, id) === undefined) return reject('UNKNOWN_NODE', `no node ${id}`, `nodes.${i}`);
  for (const [i, id] of c.coordinators.entries()) {
    if (!Object.hasOwn(state.members, id)) return reject('UNKNOWN_MEMBER', `no coordinator ${id}`, `coordinators.${i}`);
  }
  const upgrade: Upgrade = {
    to: c.to,
    reason: c.reason,
    startedAtMs: c.atMs,
    restartTimeoutMs: c.restartTimeoutMs,
    nodes: c.nodes,
    coordinators: c.coordinators,
    done: [],
    current: null,
    failed: null,
    state: 'running',
    endedAtMs: null,
  };
  const message = `rolling upgrade to ${c.to} started: nodes ${c.nodes.join(', ') || '-'}, then coordinators ${c.coordinators.join(', ') || '-'}`;
  return upgraded(state, upgrade, [{ kind: 'upgrade', message }]);
}

function nodeStep(state: RoutingState, c: UpgradeStep, u: Upgrade, node: NodeRecord): Outcome {
  const events: EventDraft[] = [];
  const status = (next: NodeRecord, why: string) => events.push({ kind: 'node-status', node: node.id, message: `${node.id} ${node.status} → ${next.status} (${why})` });
  switch (c.phase) {
    case 'restart': {
      if (node.status === 'restarting' && u.current === node.id) return unchanged(state, { ok: true, changed: false, subject: 'upgrade', upgrade: u });
      if (!(RESTARTABLE as readonly string[]).includes(node.status)) {
        return reject('WRONG_STATUS', `node ${node.id} is ${node.status}: a rolling upgrade restarts only unknown or healthy nodes`, 'id');
      }
      const next = withStatus(state, node, { status: 'restarting', atMs: c.atMs, reason: c.reason, restart: { sinceMs: c.atMs, untilMs: c.atMs + u.restartTimeoutMs, version: u.to } });
      status(next, `restarted into ${u.to}`);
      return upgraded(state, { ...u, current: node.id }, events, next);
    }
    case 'back': {
      if (node.status !== 'restarting') {
        if (u.current === node.id && node.status === 'healthy') return unchanged(state, { ok: true, changed: false, subject: 'upgrade', upgrade: u });
        return reject('WRONG_STATUS', `node ${node.id} is ${node.status}, not restarting`, 'id');
      }
      const next = withStatus(state, node, { status: 'healthy', atMs: c.atMs, reason: c.reason });
      status(next, `back with ${u.to}`);
      return upgraded(state, { ...u, current: node.id }, events, next);
    }
    case 'done':
    case 'fail':
      return finishStep(state, c, u, node);
  }
}

/** `done` or `fail` of a node or coordinator; a node still `restarting` is an ordinary node again. */
function finishStep(state: RoutingState, c: UpgradeStep, u: Upgrade, node?: NodeRecord): Outcome {
  const events: EventDraft[] = [];
  let next: NodeRecord | undefined;
  if (node?.status === 'restarting') {
    // Back and caught up: healthy. Not back: unknown, so the health monitor probes it and declares it failed if it is down.
    next = withStatus(state, node, { status: c.phase === 'done' ? 'healthy' : 'unknown', atMs: c.atMs, reason: c.reason });
    events.push({ kind: 'node-status', node: node.id, message: `${node.id} restarting → ${next.status}` });
  }
  if (c.phase === 'fail') {
    events.push({ kind: 'upgrade', ...(node === undefined ? { member: c.id } : { node: c.id }), message: `rolling upgrade to ${u.to} stopped: ${c.id} did not come back (${c.reason})` });
    return upgraded(state, { ...u, current: null, failed: { id: c.id, reason: c.reason }, state: 'failed', endedAtMs: c.atMs }, events, next);
  }
  const done = [...u.done, c.id];
  const finished = done.length === u.nodes.length + u.coordinators.length;
  events.push({
    kind: 'upgrade',
    ...(node === undefined ? { member: c.id } : { node: c.id }),
    message: `${c.id} runs ${u.to} (${done.length} of ${u.nodes.length + u.coordinators.length})${finished ? '; rolling upgrade done' : ''}`,
  });
  return upgraded(state, { ...u, done, current: null, ...(finished ? { state: 'done' as const, endedAtMs: c.atMs } : {}) }, events, next);
}

export function upgradeStep(state: RoutingState, c: UpgradeStep): Outcome {
  const u = state.upgrade;
  if (u === undefined || u.state !== 'running') return reject('NO_UPGRADE', 'no rolling upgrade is running');
  if (u.to !== c.to) return reject('STALE_VERSION', `the running upgrade is to ${u.to}, the step is of one to ${c.to}`, 'to');
  const isNode = u.nodes.includes(c.id);
  if (!isNode && !u.coordinators.includes(c.id)) return reject('UNKNOWN_NODE', `${c.id} is not part of the upgrade to ${u.to}`, 'id');
  if (u.done.includes(c.id)) {
    if (c.phase === 'done') return unchanged(state, { ok: true, changed: false, subject: 'upgrade', upgrade: u });
    return reject('WRONG_STATUS', `${c.id} is upgraded already`, 'id');
  }
  if (u.current !== null && u.current !== c.id) return reject('WRONG_STATUS', `${u.current} is being restarted: one at a time`, 'id');
  if (!isNode) {
    if (c.phase === 'back') return reject('INVALID_COMMAND', 'back is a data node’s step', 'phase');
    if (c.phase === 'restart') {
      if (u.current === c.id) return unchanged(state, { ok: true, changed: false, subject: 'upgrade', upgrade: u });
      // Coordinators come after every data node.
      const pending = u.nodes.filter((n) => !u.done.includes(n));
      if (pending.length > 0) return reject('WRONG_STATUS', `data nodes ${pending.join(', ')} are not upgraded yet: coordinators come last`, 'id');
      return upgraded(state, { ...u, current: c.id }, [{ kind: 'upgrade', member: c.id, message: `coordinator ${c.id} restarted into ${u.to}` }]);
    }
    return finishStep(state, c, u);
  }
  const node = nodeById(state, c.id);
  if (node === undefined) return reject('UNKNOWN_NODE', `no node ${c.id}`, 'id');
  return nodeStep(state, c, u, node);
}
