/**
 * The steps of features/coordinator-ha.feature, over the integration
 * harness (test/support/cluster-harness.ts): every scenario starts its own
 * three real `torua coordinator` processes and closes them (and removes any
 * packet-filter rule it added) when it ends, passed or failed.
 */
import { fileURLToPath } from 'node:url';
import { defineSteps, describeFeature, loadFeature } from '@amiceli/vitest-cucumber';
import { printDiagnosticsOnStepError } from './support/step-errors.js';
import { afterAll, expect } from 'vitest';
import { Cluster, now, partitionUnsupportedReason, waitFor, Writer } from '../test/support/cluster-harness.js';

/** Default raft timings: the election timeout is drawn from [300, 600) ms. */
const MAX_ELECTION_TIMEOUT_MS = 600;

interface World {
  h?: Cluster;
  writer?: Writer;
  monitor?: { stop(): Promise<void> };
  leader?: { id: string; term: number };
  /** The replica the fault hit, and the leader after it. */
  old?: { id: string; term: number };
  next?: { id: string; term: number };
  faultAt: number;
  /** Acknowledged writes made by steps themselves (the writer keeps its own). */
  written: string[];
  target?: string;
  dead?: string;
}

let world: World = { faultAt: 0, written: [] };
let scenarioNo = 0;

function cluster(): Cluster {
  if (!world.h) throw new Error('no cluster in this scenario');
  return world.h;
}

async function endScenario(): Promise<void> {
  const w = world;
  world = { faultAt: 0, written: [] };
  await w.writer?.stop();
  await w.monitor?.stop();
  await w.h?.close();
}
afterAll(endScenario);

printDiagnosticsOnStepError(() => world.h);

async function startCluster(name: string): Promise<Cluster> {
  // A spare (c4) in the join file, for the replacement scenario.
  const h = await Cluster.create({ name: `ha${++scenarioNo}-${name}`, spares: 1 });
  world.h = h;
  await h.startVoters();
  return h;
}

/** Waits until `id` follows a leader other than itself, in the term of the new leader or later. */
async function followsNewLeader(id: string): Promise<void> {
  const h = cluster();
  const minTerm = world.next?.term ?? 0;
  let last = '';
  await waitFor(
    `${id} to follow the new leader`,
    async () => {
      const x = await h.health(id);
      last = JSON.stringify(x ?? null);
      return x && x.role === 'follower' && x.leader !== null && x.leader !== id && x.term >= minTerm ? true : undefined;
    },
    { timeoutMs: 20_000, describe: () => last },
  );
}

// Steps shared by several scenarios.
defineSteps(({ Step }) => {
  Step('a running cluster of three coordinator replicas', async () => {
    const h = await startCluster('cluster');
    world.leader = await h.waitForLeader({ all: true });
  });

  Step('a client that keeps registering new nodes through every replica', async () => {
    const h = cluster();
    world.monitor = h.startMonitor(25);
    world.writer = new Writer(h, { prefix: 'client', intervalMs: 10 }).start();
    await world.writer.waitForAcks(10);
  });

  Step('the two others elect a new leader', async () => {
    const old = world.old!;
    world.next = await cluster().waitForLeader({ exclude: [old.id], minTerm: old.term + 1 });
    expect(world.next.id).not.toBe(old.id);
  });

  Step('it follows the new leader', async () => {
    await followsNewLeader(world.old!.id);
  });

  Step('no acknowledged write is lost', async () => {
    const h = cluster();
    await world.writer?.stop();
    await world.monitor?.stop();
    const acked = [...(world.writer?.ackedIds() ?? []), ...world.written];
    const live = h.running(h.voters);
    await h.waitForConvergence(live);
    for (const id of live) expect(await h.missingOn(id, acked), `acknowledged writes missing on ${id}`).toEqual([]);
    expect(h.leaderConflicts()).toEqual([]);
  });
});

const feature = await loadFeature(fileURLToPath(new URL('./coordinator-ha.feature', import.meta.url)));
const noPartitions = partitionUnsupportedReason();
if (noPartitions !== undefined) {
  console.warn(`features/coordinator-ha.feature: the @iptables scenario is SKIPPED, it needs root and a working iptables: ${noPartitions}`);
}

describeFeature(feature, ({ Scenario, AfterEachScenario }) => {
  AfterEachScenario(endScenario);

  Scenario('Three replicas elect a leader', ({ Given, Then, And }) => {
    Given('three coordinator replicas started from one cluster file', async () => {
      await startCluster('elect');
    });
    Then('one of them becomes the leader', async () => {
      world.leader = await cluster().waitForLeader();
    });
    And('every replica names that leader in the same term', async () => {
      const all = await cluster().waitForLeader({ all: true });
      expect(all).toEqual(world.leader);
      const hs = await cluster().healthOfAll();
      expect(hs.size).toBe(3);
      for (const x of hs.values()) expect({ leader: x.leader, term: x.term }).toEqual({ leader: all.id, term: all.term });
    });
  });

  Scenario('Writes go through any replica', ({ Given, When, Then, And }) => {
    When('a data node is registered through each replica', async () => {
      const h = cluster();
      for (const via of h.voters) {
        const a = await h.register(via, `node-via-${via}`);
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        world.written.push(`node-via-${via}`);
      }
    });
    Then('every replica lists every registered node', async () => {
      const h = cluster();
      for (const id of h.voters) expect(await h.missingOn(id, world.written)).toEqual([]);
    });
    And('every replica reports the same state hash', async () => {
      const h = cluster();
      const c = await h.waitForConvergence();
      const hs = await h.healthOfAll();
      for (const x of hs.values()) expect(x.state_hash).toBe(c.stateHash);
    });
  });

  Scenario('The leader is killed and a new one takes over without losing acknowledged writes', ({ Given, When, Then, And }) => {
    When('the leader is killed with SIGKILL', async () => {
      const h = cluster();
      world.old = await h.waitForLeader();
      world.faultAt = now();
      const exit = await h.kill(world.old.id, 'SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
    });
    And('writes are acknowledged again', async () => {
      await waitFor('a write acknowledged after the kill', () => world.writer!.firstAckSentAfter(world.faultAt), { timeoutMs: 20_000 });
    });
    When('the killed replica is started again', async () => {
      await cluster().start(world.old!.id);
    });
  });

  Scenario('A paused leader steps down when it wakes up', ({ Given, When, Then, And }) => {
    When('the leader is paused with SIGSTOP for several election timeouts', async () => {
      const h = cluster();
      world.old = await h.waitForLeader();
      world.faultAt = now();
      h.pause(world.old.id);
    });
    When('the paused replica is resumed with SIGCONT', async () => {
      await waitFor('five election timeouts of pause', () => (now() - world.faultAt >= 5 * MAX_ELECTION_TIMEOUT_MS ? true : undefined), { timeoutMs: 20_000 });
      await world.writer!.waitForAcks(10);
      cluster().resume(world.old!.id);
    });
    Then('it steps down and follows the new leader', async () => {
      await followsNewLeader(world.old!.id);
    });
    And('no term ever had two leaders', () => {
      expect(cluster().leaderConflicts()).toEqual([]);
    });
  });

  const partitionScenario = noPartitions === undefined ? Scenario : Scenario.skip;
  partitionScenario('A leader cut off from the others refuses linearizable reads', ({ Given, When, Then, And }) => {
    When('the leader is cut off from both followers by a packet filter', async () => {
      const h = cluster();
      world.old = await h.waitForLeader();
      world.faultAt = now();
      h.isolate(world.old.id);
    });
    And('the old leader steps down and answers linearizable reads with 503', async () => {
      const h = cluster();
      const old = world.old!.id;
      await waitFor(`${old} to step down`, async () => ((await h.health(old))?.role !== 'leader' ? true : undefined), { timeoutMs: 10_000 });
      for (const p of ['/cluster/info', '/nodes']) {
        const r = await h.get(old, p, 10_000);
        expect(r.status, `${p}: ${JSON.stringify(r.body)}`).toBe(503);
        expect(['NO_QUORUM', 'NO_LEADER']).toContain(r.body.error.code);
      }
    });
    And('the old leader still answers stale reads and says how stale they are', async () => {
      const r = await cluster().get(world.old!.id, '/cluster/info?stale=true');
      expect(r.status).toBe(200);
      expect(r.body.consistency).toBe('stale');
      expect(r.body.staleness_ms).toBeGreaterThan(0);
      // About since it was cut off, not since it started.
      expect(r.body.staleness_ms).toBeLessThan(r.body.uptime_ms);
    });
    When('the packet filter is removed', () => {
      cluster().heal();
    });
  });

  Scenario('Leadership is handed to another replica', ({ Given, When, Then, And }) => {
    When('an operator asks a follower to hand leadership to the other follower', async () => {
      const h = cluster();
      const [a, b] = h.voters.filter((id) => id !== world.leader!.id) as [string, string];
      const r = await h.post(b, '/cluster/leader/transfer', { to: a }, 10_000);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      world.target = a;
    });
    Then('that replica becomes the leader', async () => {
      const l = await cluster().waitForLeader({ all: true });
      expect(l.id).toBe(world.target);
      expect(l.term).toBeGreaterThan(world.leader!.term);
    });
    And('writes through every replica are acknowledged', async () => {
      const h = cluster();
      for (const via of h.voters) {
        const a = await h.register(via, `after-transfer-${via}`);
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        world.written.push(`after-transfer-${via}`);
      }
      await h.waitForConvergence();
      for (const id of h.voters) expect(await h.missingOn(id, world.written)).toEqual([]);
    });
  });

  Scenario('A dead replica is replaced by a new one', ({ Given, When, Then, And }) => {
    And('one follower has died', async () => {
      const h = cluster();
      world.dead = h.voters.find((id) => id !== world.leader!.id)!;
      await h.kill(world.dead, 'SIGKILL');
      await world.writer!.waitForAcks(10);
    });
    When('a fourth replica is started to join the cluster', async () => {
      const h = cluster();
      await h.writeJoinFile([...h.voters.filter((id) => id !== world.dead), 'c4']);
      await h.start('c4', { join: true });
    });
    And('the operator adds it as a member', async () => {
      const h = cluster();
      const m = h.member('c4');
      const via = h.running(h.voters)[0]!;
      const r = await h.post(via, '/cluster/members', { id: m.id, host: m.host, apiPort: m.apiPort, peerPort: m.peerPort }, 30_000);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      h.voters = [...h.voters, 'c4'];
    });
    And('the operator removes the dead replica', async () => {
      const h = cluster();
      const r = await h.request('c4', 'DELETE', `/cluster/members/${world.dead!}`, undefined, 15_000);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      h.voters = h.voters.filter((id) => id !== world.dead);
      await world.writer!.waitForAcks(10);
    });
    Then('the members are the two survivors and the new replica', async () => {
      const h = cluster();
      const r = await h.get('c4', '/cluster/members');
      expect(r.status).toBe(200);
      expect((r.body.members as { id: string }[]).map((m) => m.id).sort()).toEqual([...h.voters].sort());
    });
    And('the new set elects a new leader when its leader is killed', async () => {
      const h = cluster();
      const l = await h.waitForLeader();
      await h.kill(l.id, 'SIGKILL');
      await h.waitForLeader({ exclude: [l.id] });
      for (const via of h.running(h.voters)) {
        const a = await h.register(via, `after-replace-${via}`, 10_000);
        expect(a.status, JSON.stringify(a.body)).toBe(200);
      }
    });
  });
});
