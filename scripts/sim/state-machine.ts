import { EntryType, decodeConfChange, type Entry, type Snapshot } from '../../src/raft/index.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** FNV-1a over a string, folded into a running 32-bit hash. */
export function fnv(h: number, s: string): number {
  let x = h >>> 0;
  for (let i = 0; i < s.length; i++) {
    x ^= s.charCodeAt(i);
    x = Math.imul(x, 16777619) >>> 0;
  }
  return x;
}

/** What an applied entry means to the checkers: a stable description. */
export function describeEntry(e: Entry): string {
  switch (e.type) {
    case EntryType.Normal:
      return `cmd:${decoder.decode(e.data)}`;
    case EntryType.Noop:
      return 'noop';
    case EntryType.ConfChange: {
      const { change } = decodeConfChange(e.data);
      return `conf:${change.type}:${change.node}`;
    }
  }
}

/**
 * The simulated application: a hash chained over every applied entry, so
 * two replicas agree on their whole history iff their hashes at an index
 * agree. What each index holds is kept once, by the checker.
 */
export class SimStateMachine {
  appliedIndex = 0;
  hash = 2166136261;

  /** Applies the next entry; returns its description. */
  apply(e: Entry): string {
    if (e.index !== this.appliedIndex + 1) {
      throw new Error(`state machine: applying ${e.index} after ${this.appliedIndex}`);
    }
    const d = describeEntry(e);
    this.hash = fnv(this.hash, `${e.index}:${e.term}:${d};`);
    this.appliedIndex = e.index;
    return d;
  }

  snapshot(): Uint8Array {
    return encoder.encode(`${this.appliedIndex}:${this.hash}`);
  }

  static fromSnapshot(s: Snapshot | undefined): SimStateMachine {
    const sm = new SimStateMachine();
    if (!s || s.data.length === 0) {
      sm.appliedIndex = s?.meta.index ?? 0;
      return sm;
    }
    const [i, h] = decoder.decode(s.data).split(':').map(Number);
    if (i !== s.meta.index || h === undefined) throw new Error(`snapshot data at ${i} does not match its index ${s.meta.index}`);
    sm.appliedIndex = i;
    sm.hash = h;
    return sm;
  }
}
