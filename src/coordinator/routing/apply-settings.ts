/** The handlers of `updateSettings` (a compare-and-set on `config.version`) and of `ackConfig`. */
import { canonicalJson } from './canonical-json.js';
import { withNode } from './apply-node.js';
import type { AckConfig, UpdateSettings } from './commands.js';
import { nodeById } from './lookup.js';
import { reject, unchanged, type Outcome } from './outcome.js';
import { mergeSettings } from './settings-patch.js';
import type { ClusterConfig, NodeRecord, RoutingState } from './types.js';

/** `a.b: 1 → 2` for every leaf that differs, in key order. */
function differences(before: unknown, after: unknown, path: string[] = []): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => differences(before[k], after[k], [...path, k]));
  }
  const a = before === undefined ? '-' : canonicalJson(before);
  const b = after === undefined ? '-' : canonicalJson(after);
  return a === b ? [] : [`${path.join('.')}: ${a} → ${b}`];
}

export function updateSettings(state: RoutingState, c: UpdateSettings): Outcome {
  const current = state.config;
  if (c.expectedVersion !== current.version) {
    return reject('STALE_VERSION', `settings are at version ${current.version}, the command expected ${c.expectedVersion}`, 'expectedVersion');
  }
  const merged = mergeSettings(current.settings, c.settings);
  if (!merged.ok) return reject('INVALID_SETTINGS', merged.error.message, merged.error.field);
  const diff = differences(current.settings, merged.settings);
  if (diff.length === 0) return unchanged(state, { ok: true, changed: false, subject: 'config', config: current });
  const config: ClusterConfig = { version: current.version + 1, settings: merged.settings };
  return {
    ok: true,
    state: { ...state, config },
    result: { ok: true, changed: true, subject: 'config', config },
    events: [{ kind: 'settings-updated', message: `settings version ${current.version} → ${config.version}: ${diff.join('; ')}` }],
  };
}

/**
 * Records the settings version a node runs. A version the table has not
 * committed is refused (a node cannot run settings that do not exist); an
 * older one than recorded is taken too: a restarted process may run an older
 * grant for a moment, and the table says what the node last reported.
 */
export function ackConfig(state: RoutingState, c: AckConfig): Outcome {
  const node = nodeById(state, c.nodeId);
  if (node === undefined) return reject('UNKNOWN_NODE', `no node ${c.nodeId}`, 'nodeId');
  if (c.version > state.config.version) {
    return reject('STALE_VERSION', `settings version ${c.version} does not exist (the table is at ${state.config.version})`, 'version');
  }
  if (node.configVersion === c.version) return unchanged(state, { ok: true, changed: false, subject: 'node', node });
  const next: NodeRecord = { ...node, configVersion: c.version };
  return {
    ok: true,
    state: withNode(state, next),
    result: { ok: true, changed: true, subject: 'node', node: next },
    events: [{ kind: 'node-updated', node: node.id, message: `${node.id} runs settings version ${c.version}` }],
  };
}
