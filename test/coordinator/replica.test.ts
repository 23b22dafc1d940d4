import { afterEach, describe, expect, test } from 'vitest';
import { CoordinatorReplica, type Outbox } from '../../src/coordinator/replica.js';
import { initialState } from '../../src/coordinator/routing/index.js';
import { ClusterError } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { SeededRng, type Message } from '../../src/raft/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { raftSettingsSchema } from '../../src/config/index.js';
import { waitFor } from '../support/wait-for.js';

/** Three replicas in one process over an in-memory network (the real transport has its own tests). */
class Net {
  readonly replicas = new Map<string, CoordinatorReplica>();
  readonly down = new Set<string>();
  /** Every message handed to the network, delivered or not. */
  readonly sent: Message[] = [];
  /** Messages it loses on purpose. */
  lose: (m: Message) => boolean = () => false;
  outbox(from: string): Outbox {
    return {
      send: (msgs: readonly Message[]) => {
        for (const m of msgs) {
          this.sent.push(m);
          if (this.lose(m)) continue;
          setImmediate(() => {
            if (this.down.has(m.to) || this.down.has(from)) return;
            this.replicas.get(m.to)?.receive(m);
          });
        }
      },
      setPeers: () => undefined,
    };
  }
}

const ids = ['c1', 'c2', 'c3'];
const members = ids.map((id, i) => ({ id, host: '127.0.0.1', apiPort: 7001 + i, peerPort: 7101 + i }));
const raft = raftSettingsSchema.parse({ tickMs: 5, electionTicks: 10, heartbeatTicks: 2, snapshotEveryEntries: 20 });
const table = initialState({ clusterId: 't', shards: 4, members });


let net: Net;
const storages = new Map<string, MemoryStorage>();

async function startReplica(id: string, seed: number): Promise<CoordinatorReplica> {
  const storage = storages.get(id) ?? new MemoryStorage();
  storages.set(id, storage);
  const r = await CoordinatorReplica.start(
    { id, clusterId: 't', version: 'test', raft, initialVoters: ids, initialTable: table, proposalTimeoutMs: 3000, readTimeoutMs: 1000 },
    { storage, outbox: net.outbox(id), logger: silentLogger, rng: new SeededRng(seed) },
  );
  net.replicas.set(id, r);
  return r;
}

afterEach(async () => {
  for (const r of net.replicas.values()) await r.close();
  storages.clear();
});

function leader(): CoordinatorReplica | undefined {
  return [...net.replicas.values()].find((r) => !net.down.has(r.status().id) && r.status().role === 'leader');
}

const register = (id: string) => ({ type: 'registerNode', nodeId: id, address: `127.0.0.1:${8000 + Number(id.slice(1))}`, capacity: 4, version: '1', atMs: 0, reason: 'test' }) as never;

describe('coordinator replica (in-process)', () => {
  test('reports role changes to its listeners: the leader hears that it leads, the others whom they follow', async () => {
    net = new Net();
    const heard = new Map<string, { role: string; term: number; leader: string }[]>();
    for (const [i, id] of ids.entries()) {
      const r = await startReplica(id, i + 11);
      heard.set(id, []);
      r.onRoleChange((c) => heard.get(id)!.push(c));
    }
    const l = await waitFor('a leader', leader);
    const id = l.status().id;
    await waitFor('every replica heard of the leader', () => ([...heard.values()].every((h) => h.at(-1)?.leader === id) ? true : undefined));
    expect(heard.get(id)!.at(-1)).toEqual({ role: 'leader', term: l.status().term, leader: id });
    for (const other of ids.filter((x) => x !== id)) expect(heard.get(other)!.at(-1)).toMatchObject({ role: 'follower', leader: id });
  });

  test('three replicas elect a leader; a write through a follower is applied everywhere with equal state hashes', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, i + 1);
    const l = await waitFor('a leader', leader);
    const follower = [...net.replicas.values()].find((r) => r !== l)!;
    await waitFor('the follower knows the leader', () => (follower.status().leader === l.status().id ? true : undefined));
    const out = await follower.propose(register('n1'));
    expect(out).toMatchObject({ ok: true, changed: true });
    await waitFor('equal hashes', () => {
      const s = [...net.replicas.values()].map((r) => r.status());
      return s.every((x) => x.appliedIndex === s[0]!.appliedIndex && x.stateHash === s[0]!.stateHash) ? true : undefined;
    });
    const read = await follower.read('linearizable');
    expect(Object.keys(read.state.nodes)).toEqual(['n1']);
    // The leader stamped its clock into the forwarded command.
    expect(read.state.nodes['n1']!.registeredAtMs).toBeGreaterThan(0);
  });

  test('a burst of linearizable reads shares ReadIndex rounds, and each read sees the writes acknowledged before it', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 30 + i);
    const l = await waitFor('a leader', leader);
    const follower = [...net.replicas.values()].find((r) => r !== l)!;
    const fid = follower.status().id;
    await waitFor('the follower knows the leader', () => (follower.status().leader === l.status().id ? true : undefined));
    expect(await l.propose(register('n1'))).toMatchObject({ ok: true });
    const before = net.sent.filter((m) => m.from === fid && m.type === 'readIndex').length;
    const reads = await Promise.all(Array.from({ length: 50 }, () => follower.read('linearizable')));
    for (const r of reads) expect(Object.keys(r.state.nodes)).toEqual(['n1']);
    // One round for the first read, one for the 49 that arrived while it was in flight.
    expect(net.sent.filter((m) => m.from === fid && m.type === 'readIndex').length - before).toBeLessThanOrEqual(3);
    // A write acknowledged before a later burst is in every read of that burst.
    expect(await follower.propose(register('n2'))).toMatchObject({ ok: true });
    const later = await Promise.all(Array.from({ length: 20 }, () => follower.read('linearizable')));
    for (const r of later) expect(Object.keys(r.state.nodes).sort()).toEqual(['n1', 'n2']);
  });

  test('a ReadIndex round whose request is lost does not hold back the reads after it', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 40 + i);
    const l = await waitFor('a leader', leader);
    const follower = [...net.replicas.values()].find((r) => r !== l)!;
    const fid = follower.status().id;
    await waitFor('the follower knows the leader', () => (follower.status().leader === l.status().id ? true : undefined));
    net.lose = (m) => m.from === fid && m.type === 'readIndex';
    const lost = follower.read('linearizable', 5_000).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor('the lost request', () => (net.sent.some((m) => m.from === fid && m.type === 'readIndex') ? true : undefined));
    net.lose = () => false;
    // Far shorter than the lost read's own timeout: this one must not wait for it.
    const next = await follower.read('linearizable', 2_000);
    expect(next.consistency).toBe('linearizable');
    void lost;
  });

  test('status() reports the state hash of the table it was taken of, also when serialized', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 50 + i);
    const l = await waitFor('a leader', leader);
    const s0 = l.status();
    const h0 = s0.stateHash;
    expect(await l.propose(register('n1'))).toMatchObject({ ok: true });
    expect(s0.stateHash).toBe(h0);
    const s1 = l.status();
    expect(s1.stateHash).not.toBe(h0);
    expect(JSON.parse(JSON.stringify(s1))).toMatchObject({ stateHash: s1.stateHash, appliedIndex: s1.appliedIndex });
    expect({ ...s1 }.stateHash).toBe(s1.stateHash);
  });

  test('a rejected command reports apply\'s reason and changes nothing', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 10 + i);
    const l = await waitFor('a leader', leader);
    const before = l.status().stateHash;
    const out = await l.propose({ type: 'setNodeLabels', nodeId: 'nope', labels: {}, atMs: 0, reason: 't' } as never);
    expect(out.ok).toBe(false);
    expect(out.ok === false && out.code).toBe('UNKNOWN_NODE');
    expect(l.status().stateHash).toBe(before);
  });

  test('a replica cut off from the others refuses linearizable reads instead of answering stale', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 20 + i);
    const l = await waitFor('a leader', leader);
    const id = l.status().id;
    net.down.add(id);
    await expect(l.read('linearizable', 500)).rejects.toBeInstanceOf(ClusterError);
    const stale = await l.read('stale');
    expect(stale.consistency).toBe('stale');
    net.down.delete(id);
  });

  test('state survives a restart of every replica (snapshot + log replay)', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 30 + i);
    const l = await waitFor('a leader', leader);
    for (let i = 1; i <= 30; i++) await l.propose(register(`n${i}`));
    const hash = l.status().stateHash;
    const applied = l.status().appliedIndex;
    for (const r of net.replicas.values()) await r.close();
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 40 + i);
    await waitFor('the table back on every replica', () =>
      [...net.replicas.values()].every((r) => r.status().appliedIndex >= applied && Object.keys(r.status()).length > 0 && r.status().stateHash !== undefined)
        ? true
        : undefined,
    );
    const l2 = await waitFor('a new leader', leader);
    const read = await l2.read('linearizable');
    expect(Object.keys(read.state.nodes)).toHaveLength(30);
    void hash;
  });

  test('leadership transfer moves the leader to the named replica', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 50 + i);
    const l = await waitFor('a leader', leader);
    const target = ids.find((x) => x !== l.status().id)!;
    await l.transferLeadership(target);
    expect(await waitFor('target leads', () => (leader()?.status().id === target ? true : undefined))).toBe(true);
  });

  test('a members.add whose learner never catches up times out and leaves no learner behind', async () => {
    net = new Net();
    for (const [i, id] of ids.entries()) await startReplica(id, 70 + i);
    const l = await waitFor('a leader', leader);
    await l.propose(register('n1'));
    // No process answers as c4: it stays a learner that never catches up.
    const err = await l.addMember({ id: 'c4', host: '127.0.0.1', apiPort: 7004, peerPort: 7104 }, 600).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    // The removal was committed before addMember answered; the followers apply it within a heartbeat or two.
    await waitFor('every replica applied the removal', () => ([...net.replicas.values()].every((r) => r.status().appliedIndex === l.status().appliedIndex) ? true : undefined));
    for (const r of net.replicas.values()) {
      const { state } = await r.read('stale');
      expect({ replica: r.status().id, members: Object.keys(state.members).sort() }).toEqual({ replica: r.status().id, members: ['c1', 'c2', 'c3'] });
    }
  });
});
