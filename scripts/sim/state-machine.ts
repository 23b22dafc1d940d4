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
 * The simulated application: it remembers the commands in the order applied
 * and a hash chained over every applied entry, so two replicas agree on
 * their whole history iff their hashes at an index agree.
 */
export class SimStateMachine {
  appliedIndex = 0;
  hash = 2166136261;
  commands: string[] = [];

  apply(e: Entry): void {
    if (e.index !== this.appliedIndex + 1) {
      throw new Error(`state machine: applying ${e.index} after ${this.appliedIndex}`);
    }
    const d = describeEntry(e);
    this.hash = fnv(this.hash, `${e.index}:${e.term}:${d};`);
    if (e.type === EntryType.Normal) this.commands.push(d.slice(4));
    this.appliedIndex = e.index;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ i: this.appliedIndex, h: this.hash, c: this.commands }));
  }

  static fromSnapshot(s: Snapshot | undefined): SimStateMachine {
    const sm = new SimStateMachine();
    if (!s || s.data.length === 0) {
      sm.appliedIndex = s?.meta.index ?? 0;
      return sm;
    }
    const o = JSON.parse(decoder.decode(s.data)) as { i: number; h: number; c: string[] };
    sm.appliedIndex = o.i;
    sm.hash = o.h;
    sm.commands = o.c;
    if (o.i !== s.meta.index) throw new Error(`snapshot data at ${o.i} does not match its index ${s.meta.index}`);
    return sm;
  }
}
