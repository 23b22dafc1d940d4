/**
 * Wing & Gong's linearizability search with Lowe's just-in-time pruning and
 * memoization, as in Porcupine and Knossos, for one register.
 *
 * The call and return events, sorted by time, form a linked list. Walking it
 * from the head, a call is an operation that may be linearized next (every
 * operation whose call precedes the first remaining return is a candidate);
 * linearizing one applies it to the register and lifts both its events out
 * of the list. Reaching a return means that operation had to take effect by
 * then and could not: undo the last choice and try the next candidate. A
 * (set of linearized operations, register value) pair seen before is not
 * explored again. Unknown writes have no return event, so they can be
 * linearized anywhere after their call or left out: the search succeeds once
 * every operation with a return is linearized.
 *
 * Two prunings keep unknown writes from multiplying the states (each would
 * otherwise double them for as long as it may still take effect):
 * - a write may not replace the value v while a read of v is still to be
 *   linearized and no write of v is left to bring it back: that read could
 *   never be linearized;
 * - once every read of v is linearized, the unknown writes of v left are
 *   retired (counted as never taking effect): placed anywhere later they
 *   would set a value nobody reads before the next write, which is the same
 *   as not being there. Retiring them at once also keeps the state key canonical.
 */
import { ABSENT, type SearchOp } from './key-history.js';

export interface SearchBounds {
  /** Distinct (linearized set, value) states explored before giving up. */
  readonly maxStates: number;
  /** performance.now() after which the search gives up. */
  readonly deadline: number;
}

export type SearchResult =
  | { readonly verdict: 'ok'; readonly states: number }
  /** `blocked`: index (into the ops searched) of the operation whose return the search got furthest to without linearizing it. */
  | { readonly verdict: 'violation'; readonly blocked: number; readonly states: number }
  | { readonly verdict: 'bounded'; readonly bound: 'states' | 'time'; readonly states: number };

/** Iterations between two looks at the clock. */
const CLOCK_EVERY = 1024;

interface EventList {
  /** Events are 1..n; 0 is the head sentinel, n + 1 the tail sentinel. */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Operation index of each event. */
  readonly op: Int32Array;
  /** For a call: its return event, or -1 for an unknown write. 0 for a return. */
  readonly match: Int32Array;
  /** Per operation: its call event. */
  readonly callOf: Int32Array;
  readonly tail: number;
}

function buildEvents(ops: readonly SearchOp[]): EventList {
  const events: { time: number; call: boolean; op: number }[] = [];
  ops.forEach((o, i) => {
    events.push({ time: o.invoke, call: true, op: i });
    if (o.ret !== Infinity) events.push({ time: o.ret, call: false, op: i });
  });
  // At equal times calls go first: the two operations count as concurrent, never as ordered.
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const n = events.length;
  const list: EventList = {
    next: new Int32Array(n + 2),
    prev: new Int32Array(n + 2),
    op: new Int32Array(n + 2),
    match: new Int32Array(n + 2),
    callOf: new Int32Array(ops.length),
    tail: n + 1,
  };
  const callOf = list.callOf;
  for (let e = 1; e <= n; e++) {
    const ev = events[e - 1]!;
    list.op[e] = ev.op;
    if (ev.call) {
      callOf[ev.op] = e;
      list.match[e] = -1;
    } else list.match[callOf[ev.op]!] = e;
  }
  for (let e = 0; e <= n + 1; e++) {
    list.next[e] = e + 1;
    list.prev[e] = e - 1;
  }
  return list;
}

function unlink(l: EventList, e: number): void {
  l.next[l.prev[e]!] = l.next[e]!;
  l.prev[l.next[e]!] = l.prev[e]!;
}

function relink(l: EventList, e: number): void {
  l.next[l.prev[e]!] = e;
  l.prev[l.next[e]!] = e;
}

/** The search's moving parts: the event list, the linearized set and what is still to come per value. */
class Search {
  private readonly l: EventList;
  private readonly bits: Uint32Array;
  value = ABSENT;
  linearizedFinite = 0;
  readonly finite: number;
  /** Per value: reads not linearized yet, writes not linearized yet. */
  private readonly readsLeft: Int32Array;
  private readonly writesLeft: Int32Array;
  /** Per value: the unknown writes of it. */
  private readonly optionalWrites: number[][];
  /** The choices made: call event lifted, value before it, where its retirements start. Depth ≤ ops.length. */
  private readonly stackEvent: Int32Array;
  private readonly stackValue: Int32Array;
  private readonly stackRetired: Int32Array;
  /** 1 where the choice was a read taken greedily: the state before it has no other option worth trying. */
  private readonly stackForced: Uint8Array;
  depth = 0;
  /** Call events of the unknown writes retired so far. */
  private readonly retired: Int32Array;
  private retiredCount = 0;

  constructor(private readonly ops: readonly SearchOp[]) {
    this.l = buildEvents(ops);
    this.bits = new Uint32Array(Math.ceil(ops.length / 32));
    const values = ops.reduce((n, o) => Math.max(n, o.value + 1), ABSENT + 1);
    this.readsLeft = new Int32Array(values);
    this.writesLeft = new Int32Array(values);
    this.optionalWrites = Array.from({ length: values }, () => []);
    let finite = 0;
    ops.forEach((o, i) => {
      if (o.ret !== Infinity) finite++;
      if (!o.write) this.readsLeft[o.value]!++;
      else {
        this.writesLeft[o.value]!++;
        if (o.ret === Infinity) this.optionalWrites[o.value]!.push(i);
      }
    });
    this.finite = finite;
    this.stackEvent = new Int32Array(ops.length);
    this.stackValue = new Int32Array(ops.length);
    this.stackRetired = new Int32Array(ops.length);
    this.stackForced = new Uint8Array(ops.length);
    this.retired = new Int32Array(ops.length);
  }

  get first(): number {
    return this.l.next[0]!;
  }

  next(entry: number): number {
    return this.l.next[entry]!;
  }

  /** The operation of a call event, or -1 for a return event. */
  callOp(entry: number): number {
    return this.l.match[entry] !== 0 ? this.l.op[entry]! : -1;
  }

  opOf(entry: number): number {
    return this.l.op[entry]!;
  }

  /** Whether the operation of call event `entry` may be linearized now. */
  allowed(i: number): boolean {
    const op = this.ops[i]!;
    if (!op.write) return op.value === this.value;
    return op.value === this.value || this.readsLeft[this.value] === 0 || this.writesLeft[this.value]! > 0;
  }

  private lift(entry: number, i: number): void {
    this.bits[i >>> 5]! |= 1 << (i & 31);
    unlink(this.l, entry);
    const ret = this.l.match[entry]!;
    if (ret > 0) {
      unlink(this.l, ret);
      this.linearizedFinite++;
    }
  }

  private unlift(entry: number, i: number): void {
    const ret = this.l.match[entry]!;
    if (ret > 0) {
      relink(this.l, ret);
      this.linearizedFinite--;
    }
    relink(this.l, entry);
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }

  private isLinearized(i: number): boolean {
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Linearizes the operation of call event `entry` (allowed) and retires what it made useless. */
  apply(entry: number, forced: boolean): void {
    const i = this.l.op[entry]!;
    const op = this.ops[i]!;
    this.stackForced[this.depth] = forced ? 1 : 0;
    this.stackEvent[this.depth] = entry;
    this.stackValue[this.depth] = this.value;
    this.stackRetired[this.depth++] = this.retiredCount;
    this.lift(entry, i);
    if (op.write) {
      this.writesLeft[op.value]!--;
      this.value = op.value;
      return;
    }
    if (--this.readsLeft[op.value]! > 0) return;
    for (const j of this.optionalWrites[op.value]!) {
      if (this.isLinearized(j)) continue;
      const call = this.callEventOf(j);
      this.lift(call, j);
      this.writesLeft[op.value]!--;
      this.retired[this.retiredCount++] = call;
    }
  }

  get topForced(): boolean {
    return this.stackForced[this.depth - 1] === 1;
  }

  /** A read that may be linearized now (the value is its value), or -1. */
  readNow(): number {
    for (let e = this.l.next[0]!; this.l.match[e] !== 0; e = this.l.next[e]!) {
      const op = this.ops[this.l.op[e]!]!;
      if (!op.write && op.value === this.value) return e;
    }
    return -1;
  }

  /** Undoes the last apply; returns its call event. */
  undo(): number {
    const d = --this.depth;
    const entry = this.stackEvent[d]!;
    while (this.retiredCount > this.stackRetired[d]!) {
      const call = this.retired[--this.retiredCount]!;
      const j = this.l.op[call]!;
      this.unlift(call, j);
      this.writesLeft[this.ops[j]!.value]!++;
    }
    const i = this.l.op[entry]!;
    const op = this.ops[i]!;
    if (op.write) this.writesLeft[op.value]!++;
    else this.readsLeft[op.value]!++;
    this.value = this.stackValue[d]!;
    this.unlift(entry, i);
    return entry;
  }

  /**
   * The state (linearized set, value) as a short string. Every operation
   * linearized so far was called before the first return left in the list,
   * so the set is: every operation called before that return, less those
   * whose calls are still in the list ahead of it. An unknown write called
   * later but retired is implied by the reads linearized, so it needs no
   * mention. The key is as long as the window of concurrent operations, not
   * the history.
   */
  key(): string {
    let key = this.value.toString(36);
    let e = this.l.next[0]!;
    for (; this.l.match[e] !== 0; e = this.l.next[e]!) key += `,${e.toString(36)}`;
    return `${key}/${e.toString(36)}`;
  }

  private callEventOf(i: number): number {
    return this.l.callOf[i]!;
  }
}

/**
 * A read the register can answer now is linearized now, without trying
 * anything else first: it changes nothing, its real-time predecessors are
 * all linearized already (it is a candidate), so any way on from here also
 * works with the read moved first. If that way fails, so does this state.
 */
export function searchRegister(ops: readonly SearchOp[], bounds: SearchBounds): SearchResult {
  const s = new Search(ops);
  const seen = new Set<string>();
  let blocked = -1;
  let iterations = 0;
  /** Undoes choices up to the last one that was not forced; the event to try next, or -1 when none is left. */
  const backtrack = (): number => {
    for (;;) {
      if (s.depth === 0) return -1;
      const forced = s.topForced;
      const e = s.undo();
      if (!forced) return s.next(e);
    }
  };
  /** Applies the choice; false (undone) when that state was seen before. */
  const enter = (e: number, forced: boolean): boolean | 'full' => {
    s.apply(e, forced);
    const key = s.key();
    if (!seen.has(key)) {
      if (seen.size >= bounds.maxStates) return 'full';
      seen.add(key);
      return true;
    }
    s.undo();
    return false;
  };
  let entry = s.first;
  let fresh = true;
  while (s.linearizedFinite < s.finite) {
    if (++iterations % CLOCK_EVERY === 0 && performance.now() > bounds.deadline) return { verdict: 'bounded', bound: 'time', states: seen.size };
    if (fresh) {
      fresh = false;
      const read = s.readNow();
      if (read >= 0) {
        const entered = enter(read, true);
        if (entered === 'full') return { verdict: 'bounded', bound: 'states', states: seen.size };
        // A read's state seen before failed then, and this state with it.
        fresh = entered;
        entry = entered ? s.first : backtrack();
        if (entry < 0) return { verdict: 'violation', blocked, states: seen.size };
        continue;
      }
      entry = s.first;
    }
    const i = s.callOp(entry);
    if (i >= 0) {
      // A call: try to linearize its operation here (no read can be: readNow found none).
      if (s.allowed(i)) {
        const entered = enter(entry, false);
        if (entered === 'full') return { verdict: 'bounded', bound: 'states', states: seen.size };
        if (entered) {
          fresh = true;
          continue;
        }
      }
      entry = s.next(entry);
      continue;
    }
    // A return whose operation is not linearized yet: back out the last choice.
    // (The tail sentinel is never reached: a return of an unlinearized operation comes first.)
    const stuck = s.opOf(entry);
    if (blocked < 0 || ops[stuck]!.ret > ops[blocked]!.ret) blocked = stuck;
    entry = backtrack();
    if (entry < 0) return { verdict: 'violation', blocked, states: seen.size };
  }
  return { verdict: 'ok', states: seen.size };
}
