// Disk faults against real LevelRaftStorage under three in-process replicas: a
// failed sync is never acknowledged (nothing applied or answered, nothing on
// disk, nothing sent after it); a crash after a persist leaves the batch
// durable. The leader's appends leave while its own write is in flight (Raft
// thesis §10.2.1), so what becomes of such a batch is up to the others; the
// replicas agree on it either way.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { raftSettingsSchema } from '../../src/config/index.js';
import { CoordinatorReplica, type Outbox } from '../../src/coordinator/replica.js';
import { initialState } from '../../src/coordinator/routing/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { SeededRng, type Entry, type Message } from '../../src/raft/index.js';
import { DiskFaults, LevelRaftStorage, StorageError, StorageErrorCode, type FaultSettings, type PersistBatch, type RaftStorage } from '../../src/storage/index.js';
import { waitFor } from '../support/wait-for.js';

const ids = ['c1', 'c2', 'c3'];
const members = ids.map((id, i) => ({ id, host: '127.0.0.1', apiPort: 7001 + i, peerPort: 7101 + i }));
const raft = raftSettingsSchema.parse({ tickMs: 5, electionTicks: 10, heartbeatTicks: 2 });
const table = initialState({ clusterId: 't', shards: 4, members });
const register = (id: string) => ({ type: 'registerNode', nodeId: id, address: '10.0.0.1:8081', capacity: 4, version: '1', atMs: 0, reason: 'test' }) as never;

/** What happened, in order, across the replicas: sends, persisted batches, injected faults. */
type Event = { kind: 'send'; from: string; msgs: readonly Message[] } | { kind: 'persisted'; by: string; batch: PersistBatch } | { kind: 'fault'; by: string };

interface Member {
  replica: CoordinatorReplica;
  storage: LevelRaftStorage;
  faults: DiskFaults;
  fatal: unknown[];
}

class InProcessCluster {
  readonly members = new Map<string, Member>();
  readonly events: Event[] = [];

  constructor(readonly root: string) {}

  outbox(from: string): Outbox {
    return {
      send: (msgs) => {
        this.events.push({ kind: 'send', from, msgs });
        for (const m of msgs) setImmediate(() => this.members.get(m.to)?.replica.receive(m));
      },
      setPeers: () => undefined,
    };
  }

  /** Starts `id` on its own store in `root/id`, with disk faults that stay off until `arm`. */
  async start(id: string, seed: number, fault: Partial<FaultSettings>): Promise<Member> {
    const faults = new DiskFaults(
      { syncFailRate: 0, syncDelayRate: 1, syncDelayMs: [0, 0], crashBetweenPersistAndSendRate: 0, seed, ...fault, onlyWhenLeader: true },
      {
        logger: silentLogger,
        // In a test the "process exit" throws: the Ready loop stops right there, as the process would.
        crash: () => {
          this.events.push({ kind: 'fault', by: id });
          throw new Error('injected crash');
        },
      },
    );
    const syncedWrite = faults.syncedWrite;
    const storage = await LevelRaftStorage.open(path.join(this.root, id), {}, {
      syncedWrite: (write) =>
        syncedWrite(write).catch((e: unknown) => {
          this.events.push({ kind: 'fault', by: id });
          throw e;
        }),
    });
    const recording: RaftStorage = {
      load: () => storage.load(),
      close: () => storage.close(),
      persist: async (batch) => {
        await storage.persist(batch);
        this.events.push({ kind: 'persisted', by: id, batch });
      },
    };
    const fatal: unknown[] = [];
    const replica = await CoordinatorReplica.start(
      { id, clusterId: 't', version: 'test', raft, initialVoters: ids, initialTable: table, proposalTimeoutMs: 2_000, readTimeoutMs: 1_000 },
      { storage: recording, outbox: this.outbox(id), logger: silentLogger, rng: new SeededRng(seed), onFatal: (e) => fatal.push(e), afterPersist: faults.afterPersist },
    );
    const m = { replica, storage, faults, fatal };
    this.members.set(id, m);
    return m;
  }

  leader(exclude?: string): Member | undefined {
    return [...this.members.entries()].find(([id, m]) => id !== exclude && m.fatal.length === 0 && m.replica.status().role === 'leader')?.[1];
  }

  async stop(id: string): Promise<void> {
    const m = this.members.get(id);
    if (!m) return;
    this.members.delete(id);
    await m.replica.close();
    await m.storage.close();
  }
}


const entryKeys = (es: readonly Entry[]): string[] => es.map((e) => `${e.index}@${e.term}`);
const sentEntries = (ev: Event): string[] => (ev.kind === 'send' ? ev.msgs.flatMap((m) => entryKeys(m.type === 'app' ? m.entries : [])) : []);

let root = '';
let cluster: InProcessCluster;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'torua-faults-'));
  cluster = new InProcessCluster(root);
});
afterEach(async () => {
  for (const id of [...cluster.members.keys()]) await cluster.stop(id).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function startThree(fault: Partial<FaultSettings>): Promise<{ leaderId: string; leader: Member }> {
  for (const [i, id] of ids.entries()) await cluster.start(id, 100 + i, fault);
  const leader = await waitFor('a leader', () => cluster.leader());
  expect(await leader.replica.propose(register('n1'))).toMatchObject({ ok: true });
  return { leaderId: leader.replica.status().id, leader };
}

describe('disk faults under in-process replicas on LevelDB', () => {
  it('a failed sync on the leader: nothing of that batch is applied, answered or on disk, nothing is sent after it; the replica stops as fatal', async () => {
    const { leaderId, leader } = await startThree({ syncFailRate: 1 });
    const before = leader.replica.status().appliedIndex;
    leader.faults.setLeading(true);
    const answer = leader.replica.propose(register('n2')).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    await waitFor('the fatal store error', () => leader.fatal.length > 0);
    expect(leader.fatal[0]).toBeInstanceOf(StorageError);
    expect((leader.fatal[0] as StorageError).code).toBe(StorageErrorCode.WriteFailed);
    expect((leader.fatal[0] as StorageError).message).toContain('injected sync failure');

    // Nothing the leader did after the failed write reached anyone, and it applied nothing more.
    const failedAt = cluster.events.findIndex((e) => e.kind === 'fault');
    expect(failedAt).toBeGreaterThanOrEqual(0);
    expect(cluster.events.slice(failedAt).filter((e) => e.kind === 'send' && e.from === leaderId)).toEqual([]);
    expect(leader.replica.status().appliedIndex).toBe(before);
    expect((await answer).ok).toBe(false);

    // The others elect a new leader; n1 is there (n2's append may have reached them before the failed write).
    const next = await waitFor('a new leader', () => cluster.leader(leaderId));
    const read = await next.replica.read('linearizable');
    expect(Object.keys(read.state.nodes)).toContain('n1');

    // Nothing of the failed batch is on disk: the write was refused before it was made.
    const lastBefore = Math.max(
      0,
      ...cluster.events.slice(0, failedAt).flatMap((e) => (e.kind === 'persisted' && e.by === leaderId ? e.batch.entries.map((x) => x.index) : [])),
    );
    await cluster.stop(leaderId);
    const reopened = await LevelRaftStorage.open(path.join(root, leaderId));
    try {
      const stored = await reopened.load();
      expect(stored.entries.at(-1)?.index ?? 0).toBe(lastBefore);
    } finally {
      await reopened.close();
    }

    // Restarted (faults off as a follower), it catches up and agrees with the others on whatever became of n2.
    await cluster.start(leaderId, 200, {});
    await waitFor('equal state hashes', () => {
      const s = [...cluster.members.values()].map((m) => m.replica.status());
      return s.length === 3 && s.every((x) => x.appliedIndex === s[0]!.appliedIndex && x.stateHash === s[0]!.stateHash);
    });
    const after = Object.keys((await cluster.members.get(leaderId)!.replica.read('stale')).state.nodes);
    expect(after).toContain('n1');
    expect(after).toEqual(Object.keys((await next.replica.read('stale')).state.nodes));
  });

  it('a crash after the leader persisted a batch: the batch is on disk, its appends had left during the write, nothing leaves after', async () => {
    const { leaderId, leader } = await startThree({ crashBetweenPersistAndSendRate: 1 });
    leader.faults.setLeading(true);
    void leader.replica.propose(register('n2')).catch(() => undefined);
    await waitFor('the injected crash', () => leader.fatal.length > 0);
    expect(String(leader.fatal[0])).toContain('injected crash');

    const crashedAt = cluster.events.findIndex((e) => e.kind === 'fault');
    const last = cluster.events.slice(0, crashedAt).reverse().find((e) => e.kind === 'persisted' && e.by === leaderId);
    expect(last?.kind).toBe('persisted');
    const batch = (last as Extract<Event, { kind: 'persisted' }>).batch;
    expect(batch.entries.length).toBeGreaterThan(0);
    const persistedAt = cluster.events.indexOf(last!);
    const written = new Set(entryKeys(batch.entries));
    // The leader's own write overlapped its followers': the entries went out before that write completed.
    const sentBefore = new Set(cluster.events.slice(0, persistedAt).filter((e) => e.kind === 'send' && e.from === leaderId).flatMap(sentEntries));
    for (const k of written) expect(sentBefore).toContain(k);
    expect(cluster.events.slice(crashedAt).filter((e) => e.kind === 'send' && e.from === leaderId)).toEqual([]);

    await cluster.stop(leaderId);
    const reopened = await LevelRaftStorage.open(path.join(root, leaderId));
    try {
      const stored = entryKeys((await reopened.load()).entries);
      for (const k of written) expect(stored).toContain(k);
    } finally {
      await reopened.close();
    }

    // Back up, the replicas agree whatever became of n2 (persisted on one replica only, it may be kept or cut off).
    await cluster.start(leaderId, 300, {});
    await waitFor('a leader', () => cluster.leader());
    await waitFor('equal state hashes', () => {
      const s = [...cluster.members.values()].map((m) => m.replica.status());
      return s.length === 3 && s.every((x) => x.appliedIndex === s[0]!.appliedIndex && x.stateHash === s[0]!.stateHash);
    });
    expect(Object.keys((await cluster.leader()!.replica.read('linearizable')).state.nodes)).toContain('n1');
  });

  it('a sync that stalls: the stuck leader steps down while stuck, the others take over, and all agree once the write completes', async () => {
    // Far beyond CheckQuorum (10 ticks of 5 ms) and the store-stall limit (persistStallTicks, 30 ticks): whichever fires first.
    const { leaderId, leader } = await startThree({ syncDelayMs: [1_500, 1_500] });
    // n1 is answered before the leader's (unsynced) write of its commit index is done: let that one land first.
    const n1 = leader.replica.status().appliedIndex;
    await waitFor('the leader to store the commit of n1', () =>
      cluster.events.some((e) => e.kind === 'persisted' && e.by === leaderId && (e.batch.hardState?.commit ?? 0) >= n1),
    );
    const armedAt = cluster.events.length;
    const persistedSinceArmed = (): number => cluster.events.slice(armedAt).filter((e) => e.kind === 'persisted' && e.by === leaderId).length;
    leader.faults.setLeading(true);
    const answer = leader.replica.propose(register('n2')).then(
      () => 'ok',
      () => 'failed',
    );
    await waitFor('the stuck leader to step down', () => leader.replica.status().role !== 'leader');
    expect(persistedSinceArmed()).toBe(0); // still inside the stalled write
    expect(leader.faults.injected.delayedSyncs).toBe(1);
    const next = await waitFor('a new leader', () => cluster.leader(leaderId));
    expect(await next.replica.propose(register('n3'))).toMatchObject({ ok: true });
    leader.faults.setLeading(false);
    await waitFor('the stalled write to complete', () => persistedSinceArmed() > 0);
    expect(leader.fatal).toEqual([]);
    await waitFor('equal state hashes', () => {
      const s = [...cluster.members.values()].map((m) => m.replica.status());
      return s.every((x) => x.appliedIndex === s[0]!.appliedIndex && x.stateHash === s[0]!.stateHash && x.appliedIndex > 0) && s.length === 3;
    });
    const nodes = Object.keys((await next.replica.read('linearizable')).state.nodes);
    expect(nodes).toContain('n3');
    // n2 was durable on the old leader only; whatever became of it, its answer matches the table.
    expect(nodes.includes('n2')).toBe((await answer) === 'ok');
  });
});
