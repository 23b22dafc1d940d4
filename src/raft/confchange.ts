import { RaftError, RaftErrorCode } from './errors.js';
import type { ConfChange, ConfState, MemberId } from './types.js';

/**
 * A membership-change entry carries the change and the whole configuration
 * that results from it, so any replica (also one that joined later and never
 * saw the first configuration) knows the configuration from the entry alone.
 */
export interface ConfChangeRecord {
  readonly change: ConfChange;
  readonly conf: ConfState;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeConfChange(record: ConfChangeRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

function isIdList(v: unknown): v is MemberId[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
}

/** Decodes and checks a membership-change entry; throws CorruptState on anything malformed. */
export function decodeConfChange(data: Uint8Array): ConfChangeRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    throw new RaftError(RaftErrorCode.CorruptState, 'membership-change entry is not valid JSON');
  }
  const r = parsed as { change?: { type?: unknown; node?: unknown; context?: unknown }; conf?: { voters?: unknown; learners?: unknown } };
  const type = r?.change?.type;
  if (
    (type !== 'addLearner' && type !== 'promote' && type !== 'remove') ||
    typeof r.change?.node !== 'string' ||
    (r.change.context !== undefined && typeof r.change.context !== 'string') ||
    !isIdList(r.conf?.voters) ||
    !isIdList(r.conf?.learners)
  ) {
    throw new RaftError(RaftErrorCode.CorruptState, 'membership-change entry has an unexpected shape');
  }
  const change: ConfChange =
    r.change.context === undefined
      ? { type, node: r.change.node }
      : { type, node: r.change.node, context: r.change.context as string };
  return { change, conf: { voters: [...r.conf.voters], learners: [...r.conf.learners] } };
}

/** The configuration after `change`, or an InvalidConfChange error saying why not. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const { node } = change;
  const isVoter = conf.voters.includes(node);
  const isLearner = conf.learners.includes(node);
  const invalid = (why: string): never => {
    throw new RaftError(RaftErrorCode.InvalidConfChange, `${change.type} ${node}: ${why}`, { node });
  };
  if (node.length === 0) invalid('empty node id');
  switch (change.type) {
    case 'addLearner':
      if (isVoter || isLearner) invalid('already a member');
      return { voters: [...conf.voters], learners: [...conf.learners, node] };
    case 'promote':
      if (!isLearner) invalid(isVoter ? 'already a voter' : 'not a learner (add it as a learner first)');
      return { voters: [...conf.voters, node], learners: conf.learners.filter((x) => x !== node) };
    case 'remove':
      if (!isVoter && !isLearner) invalid('not a member');
      if (isVoter && conf.voters.length === 1) invalid('cannot remove the last voter');
      return { voters: conf.voters.filter((x) => x !== node), learners: conf.learners.filter((x) => x !== node) };
  }
}

export function sameConf(a: ConfState, b: ConfState): boolean {
  const eq = (x: readonly MemberId[], y: readonly MemberId[]): boolean =>
    x.length === y.length && [...x].sort().every((v, i) => v === [...y].sort()[i]);
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}
