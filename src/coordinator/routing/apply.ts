/**
 * `apply`: the routing table's transition function, run by every replica on
 * every committed command entry, in log order.
 *
 * Deterministic: its output depends on (state, command, meta) only; time
 * comes from the command's `atMs`. It never throws: a bad command is a
 * rejection and the state is returned unchanged, as the same object. Even an
 * exception from a bug is turned into an INTERNAL rejection — every replica
 * hits the same bug on the same entry, so they stay equal, and the cluster
 * does not crash-loop replaying a poisoned entry.
 */
import * as nodes from './apply-node.js';
import * as planned from './apply-planned.js';
import * as shards from './apply-shard.js';
import { startUpgrade, upgradeStep } from './apply-upgrade.js';
import { ackConfig, updateSettings } from './apply-settings.js';
import { applyFinishRestore } from './restore-commands.js';
import { decodeCommand } from './codec.js';
import { parseCommand, type Command } from './commands.js';
import { appendEvents } from './events.js';
import type { Outcome } from './outcome.js';
import type { ApplyMeta, ApplyOutput, RoutingState } from './types.js';

function dispatch(state: RoutingState, c: Command): Outcome {
  switch (c.type) {
    case 'registerNode':
      return nodes.registerNode(state, c);
    case 'setNodeLabels':
      return nodes.setNodeLabels(state, c);
    case 'setNodeStatus':
      return nodes.setNodeStatus(state, c);
    case 'removeNode':
      return nodes.removeNode(state, c);
    case 'assignShard':
      return shards.assignShard(state, c);
    case 'moveShard':
      return shards.moveShard(state, c);
    case 'setInSync':
      return shards.setInSync(state, c);
    case 'promotePrimary':
      return shards.promotePrimary(state, c);
    case 'updateSettings':
      return updateSettings(state, c);
    case 'ackConfig':
      return ackConfig(state, c);
    case 'setMaintenance':
      return planned.setMaintenance(state, c);
    case 'startEvacuation':
      return planned.startEvacuation(state, c);
    case 'cancelEvacuation':
      return planned.cancelEvacuation(state, c);
    case 'finishEvacuation':
      return planned.finishEvacuation(state, c);
    case 'setEvacuationStall':
      return planned.setEvacuationStall(state, c);
    case 'finishRestore':
      return applyFinishRestore(state, c);
    case 'startUpgrade':
      return startUpgrade(state, c);
    case 'upgradeStep':
      return upgradeStep(state, c);
  }
}

/** Applies one command (validated again here: the log is input too). */
export function apply(state: RoutingState, command: unknown, meta: ApplyMeta): ApplyOutput {
  const parsed = parseCommand(command);
  if (!parsed.ok) return { state, result: parsed };
  return applyCommand(state, parsed.command, meta);
}

/** Applies a command parseCommand (or decodeCommand) accepted: the schema runs once per entry, not twice. */
export function applyCommand(state: RoutingState, c: Command, meta: ApplyMeta): ApplyOutput {
  try {
    const outcome = dispatch(state, c);
    if (!outcome.ok || outcome.events.length === 0) return { state, result: outcome.ok ? outcome.result : outcome };
    return { state: { ...outcome.state, events: appendEvents(outcome.state.events, outcome.events, meta, c.atMs, c.reason, c.by) }, result: outcome.result };
  } catch (e) {
    return { state, result: { ok: false, code: 'INTERNAL', message: `applying ${c.type} failed: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

/** Applies the data of a committed normal entry: decode, validate, apply. */
export function applyEntry(state: RoutingState, data: Uint8Array, meta: ApplyMeta): ApplyOutput {
  const decoded = decodeCommand(data);
  return decoded.ok ? applyCommand(state, decoded.command, meta) : { state, result: decoded };
}
