import {
  RawNode,
  SeededRng,
  NONE,
  type AppendRequest,
  type Entry,
  type HeartbeatRequest,
  type InitialState,
  type Message,
  type MemberId,
  type RaftOptions,
  type Ready,
  type VoteRequest,
} from '../../src/raft/index.js';

/** A lone RawNode built by hand (no cluster): the test plays every peer. */
export function newNode(
  id: MemberId,
  voters: MemberId[],
  opts: Partial<RaftOptions> = {},
  initial?: InitialState,
  seed = 1,
): RawNode {
  return new RawNode(
    { id, electionTicks: 10, heartbeatTicks: 1, initialConf: { voters, learners: [] }, ...opts },
    { rng: new SeededRng(seed), ...(initial ? { initial } : {}) },
  );
}

/** Takes every pending Ready (ready + advance) and returns them. */
export function drain(node: RawNode): Ready[] {
  const out: Ready[] = [];
  while (node.hasReady()) {
    out.push(node.ready());
    node.advance();
  }
  return out;
}

/** The messages of every pending Ready. */
export function drainMessages(node: RawNode): Message[] {
  return drain(node).flatMap((rd) => rd.messages);
}

export function app(
  from: MemberId,
  to: MemberId,
  term: number,
  prevIndex: number,
  prevTerm: number,
  entries: readonly Entry[],
  commit: number,
): AppendRequest {
  return { type: 'app', from, to, term, prevIndex, prevTerm, entries, commit };
}

export function heartbeat(from: MemberId, to: MemberId, term: number, commit = 0, readSeq = 0): HeartbeatRequest {
  return { type: 'heartbeat', from, to, term, commit, readSeq };
}

export function voteReq(
  from: MemberId,
  to: MemberId,
  term: number,
  lastIndex: number,
  lastTerm: number,
  type: 'vote' | 'preVote' = 'vote',
  transfer = false,
): VoteRequest {
  return { type, from, to, term, lastIndex, lastTerm, transfer };
}

/** Ticks `node` until `pred` holds; returns how many ticks that took (throws past `max`). */
export function ticksUntil(node: RawNode, pred: () => boolean, max = 1000): number {
  for (let t = 1; t <= max; t++) {
    node.tick();
    if (pred()) return t;
  }
  throw new Error(`condition not reached within ${max} ticks`);
}

export { NONE };
