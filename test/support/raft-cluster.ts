import {
  RawNode,
  SeededRng,
  type ConfState,
  type Entry,
  type HardState,
  type InitialState,
  type Message,
  type MemberId,
  type RaftOptions,
  type Ready,
  type Snapshot,
  EntryType,
  NONE,
} from '../../src/raft/index.js';
import { MemoryStorage, batchOf } from '../../src/storage/index.js';

/**
 * A tiny synchronous cluster for unit tests: every replica persists to a
 * MemoryStorage (synced at once), messages go into one queue, and the test
 * decides what is delivered, dropped or cut. Not the simulator: no faults of
 * its own, just direct control.
 */
export interface TestReplica {
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: { requestId: string; index: number }[];
  failedReads: { requestId: string; reason: string }[];
  /** Every Ready this replica handed out (through flush()), in order. */
  readies: Ready[];
  /** The bootstrap configuration it was created with (reused on restart). */
  initialConf: ConfState | undefined;
}

export class TestCluster {
  readonly replicas = new Map<MemberId, TestReplica>();
  queue: Message[] = [];
  /** Directed links that drop everything: "a->b". */
  readonly cut = new Set<string>();
  readonly isolated = new Set<MemberId>();
  /** Drops every message for which it returns true (on top of cut and isolated). */
  dropIf: ((m: Message) => boolean) | undefined;
  /** Every message any replica emitted in a Ready, dropped or not, in order. */
  readonly sent: Message[] = [];
  private readonly rng: SeededRng;

  /**
   * `storages` preloads replicas with durable state (see storageWith()); the
   * others start empty.
   */
  constructor(
    ids: MemberId[],
    readonly opts: Partial<RaftOptions> = {},
    seed = 1,
    storages: Partial<Record<MemberId, MemoryStorage>> = {},
  ) {
    this.rng = new SeededRng(seed);
    for (const id of ids) this.add(id, { voters: [...ids], learners: [] }, storages[id]);
  }

  add(id: MemberId, initialConf?: ConfState, storage = new MemoryStorage()): TestReplica {
    const node = new RawNode(
      { id, electionTicks: 10, heartbeatTicks: 1, ...this.opts, ...(initialConf ? { initialConf } : {}) },
      { rng: this.rng.fork(), initial: storage.loadNow() },
    );
    const r: TestReplica = { node, storage, applied: [], readStates: [], failedReads: [], readies: [], initialConf };
    this.replicas.set(id, r);
    return r;
  }

  /**
   * A crash and restart: writes not synced are lost, and a new RawNode is
   * built from what the replica's MemoryStorage holds durably. Its state
   * machine starts empty again (applied entries are re-delivered).
   */
  restart(id: MemberId): TestReplica {
    const old = this.get(id);
    old.storage.crash();
    this.queue = this.queue.filter((m) => m.to !== id);
    return this.add(id, old.initialConf, old.storage);
  }

  get(id: MemberId): TestReplica {
    const r = this.replicas.get(id);
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  node(id: MemberId): RawNode {
    return this.get(id).node;
  }

  /** Whether a message from a Ready would be dropped by the current faults. */
  drops(m: Message): boolean {
    return this.isolated.has(m.from) || this.isolated.has(m.to) || this.cut.has(`${m.from}->${m.to}`) || (this.dropIf?.(m) ?? false);
  }

  /** Processes every replica's Ready once: persist, queue messages, apply, advance. */
  flush(): Ready[] {
    const out: Ready[] = [];
    for (const r of this.replicas.values()) {
      while (r.node.hasReady()) {
        const rd = r.node.ready();
        void r.storage.persist(batchOf(rd));
        for (const m of rd.messages) {
          this.sent.push(m);
          if (!this.drops(m)) this.queue.push(m);
        }
        r.applied.push(...rd.committedEntries);
        r.readStates.push(...rd.readStates);
        r.failedReads.push(...rd.failedReads);
        r.readies.push(rd);
        r.node.advance();
        out.push(rd);
      }
    }
    return out;
  }

  /** Delivers the queued messages that match (dropping those the faults now drop); keeps the others queued. */
  deliver(match: (m: Message) => boolean = () => true): Message[] {
    const now = this.queue.filter(match);
    this.queue = this.queue.filter((m) => !match(m));
    for (const m of now) if (!this.drops(m)) this.replicas.get(m.to)?.node.step(m);
    return now;
  }

  /** Delivers queued messages (and what they cause) until the network is quiet. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.queue.length === 0) return;
      const q = this.queue;
      this.queue = [];
      for (const m of q) this.replicas.get(m.to)?.node.step(m);
    }
    throw new Error('cluster did not stabilize');
  }

  tick(ids: MemberId[] = [...this.replicas.keys()], times = 1): void {
    for (let t = 0; t < times; t++) for (const id of ids) this.get(id).node.tick();
  }

  /** `times` rounds of: tick `ids` once, then stabilize. */
  run(times: number, ids: MemberId[] = [...this.replicas.keys()]): void {
    for (let t = 0; t < times; t++) {
      this.tick(ids);
      this.stabilize();
    }
  }

  /** Ticks `ids` (delivering in between) until one of them leads, or throws. */
  electLeader(maxTicks = 500, ids: MemberId[] = [...this.replicas.keys()]): MemberId {
    for (let t = 0; t < maxTicks; t++) {
      this.tick(ids);
      this.stabilize();
      for (const id of ids) if (this.node(id).status().role === 'leader') return id;
    }
    throw new Error('no leader elected');
  }

  /** Campaigns `id` right away by ticking only it past its election timeout. */
  campaign(id: MemberId): void {
    const n = this.node(id);
    for (let i = 0; i < 100 && n.status().role === 'follower'; i++) {
      n.tick();
    }
    this.stabilize();
  }

  leader(): MemberId | undefined {
    for (const [id, r] of this.replicas) if (r.node.status().role === 'leader') return id;
    return undefined;
  }

  isolate(id: MemberId): void {
    this.isolated.add(id);
  }

  /** Removes every fault: isolation, cut links and dropIf. */
  heal(): void {
    this.isolated.clear();
    this.cut.clear();
    this.dropIf = undefined;
  }

  /** Messages emitted so far that match (e.g. to count appends to one follower). */
  sentWhere(match: (m: Message) => boolean): Message[] {
    return this.sent.filter(match);
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Entries with the given terms, numbered from `first` (Normal, empty data). */
export function entriesWithTerms(terms: readonly number[], first = 1): Entry[] {
  return terms.map((term, k) => ({ index: first + k, term, type: EntryType.Normal, data: new Uint8Array(0) }));
}

/** A MemoryStorage that durably holds the given state, as if a replica had written it before a restart. */
export function storageWith(initial: {
  hardState?: Partial<HardState>;
  entries?: readonly Entry[];
  snapshot?: Snapshot;
}): MemoryStorage {
  const s = new MemoryStorage();
  s.write({
    hardState: { term: 0, vote: NONE, commit: 0, ...initial.hardState },
    snapshot: initial.snapshot,
    entries: initial.entries ?? [],
    compaction: undefined,
    sync: true,
  });
  s.sync();
  return s;
}

/** InitialState for a RawNode built by hand. */
export function initialState(hardState: Partial<HardState>, entries: readonly Entry[] = [], snapshot?: Snapshot): InitialState {
  return { hardState: { term: 0, vote: NONE, commit: 0, ...hardState }, snapshot, entries: [...entries] };
}

/** The terms of a replica's log from its first index on (what Figure 7 draws). */
export function logTerms(node: RawNode): number[] {
  const log = node.raftLog;
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i)!);
  return out;
}
