/**
 * What the models of the system simulation see of its world: the links a
 * replica's NodeControl calls through (probes, handoffs, confirmations), and
 * the worlds of the data nodes' leases, their writes and the operator, each
 * an adapter from the simulator's state to the narrow interface its model
 * takes (so each model stays testable and small).
 */
import type { CoordinatorReplica } from '../../../src/coordinator/replica.js';
import { epochAfterInSyncChange, type SetInSync } from '../../../src/coordinator/routing/index.js';
import { AdminWorkload } from './admin-workload.js';
import { InSyncRefused, NodeLeases } from './node-leases.js';
import { NodeWrites } from './node-writes.js';
import { blindConfirm, earlyInSyncAnswer } from './planted.js';
import { STEP_MS } from './profile.js';
import type { LinkWorld } from './sim-links.js';
import type { SystemSimulator } from './system-sim.js';

export function linkWorld(sim: SystemSimulator): LinkWorld {
  const linkRng = sim.rng.fork();
  return {
    hopMs: () => linkRng.int(sim.profile.maxDelaySteps + 1) * STEP_MS,
    nodeAt: (from, address) => {
      const n = sim.dataNodes.get(address);
      return n && sim.nodeUp(n) && !sim.leases.paused(n.id) && !sim.nodeCuts.has(`${from}|${n.id}`) ? n : undefined;
    },
    replicaAt: (from, apiAddress) => {
      const p = sim.procs.find((x) => `${x.id}.sim:7000` === apiAddress);
      if (!p || !sim.running(p) || !p.control || sim.network.isCut(from, p.id)) return undefined;
      return sim.opts.variant === 'blind-confirm' ? { confirmProbe: () => Promise.resolve(blindConfirm) } : p.control;
    },
    leaseOf: (id) => {
      const n = sim.leases.nodes.get(id);
      const remainingMs = n === undefined ? 0 : Math.max(0, n.leaseUntilMs - (sim.nowMs + n.skewMs));
      return { valid: remainingMs > 0, remainingMs, leader: null, term: null };
    },
    handoff: (id, req) => {
      const node = sim.leases.nodes.get(id);
      // Caught up: every write it stored reached every copy it counts in sync (so the new primary holds every acknowledged one).
      const caughtUp = node !== undefined && sim.writesModel.caughtUp(node, req.shard);
      sim.leases.handoff(id, req.shard, req.epoch);
      sim.note(`node ${id} hands shard ${req.shard} off at epoch ${req.epoch}${caughtUp ? ', caught up' : ''}`);
      return { lastSeq: 0, caughtUp };
    },
    callerAlive: (from, incarnation) => {
      const p = sim.proc(from);
      return p.alive && p.incarnation === incarnation;
    },
  };
}

export function adminWorld(sim: SystemSimulator): AdminWorkload {
  return new AdminWorkload({
    rng: sim.rng.fork(),
    leaderTable: () => {
      const l = sim.leader();
      return l === undefined ? undefined : sim.checks.lastState.get(l.id);
    },
    cutFromLeader: () => {
      const l = sim.leader();
      return l === undefined ? [] : [...sim.dataNodes.values()].filter((n) => sim.nodeCuts.has(`${l.id}|${n.id}`)).map((n) => n.id);
    },
    propose: (cmd, what) => {
      const targets = sim.procs.filter((p) => sim.running(p));
      const l = sim.leader();
      if (targets.length === 0) return;
      sim.note(`operator: ${what}`);
      sim.workload.propose(l !== undefined && sim.rng.chance(0.7) ? l : sim.rng.pick(targets), cmd, () => undefined);
    },
    rebalance: () => {
      const control = sim.leader()?.control;
      control?.requestRebalance('sim operator').then(
        (r) => sim.note(`rebalance answered: ${r.round?.proposed.length ?? 0} steps, pending ${r.pending}`),
        (e: unknown) => sim.note(`rebalance failed: ${e instanceof Error ? e.message.slice(0, 60) : String(e)}`),
      );
    },
    note: (line) => sim.note(line),
  });
}

export function writeWorld(sim: SystemSimulator): NodeWrites {
  const rng = sim.rng.fork();
  return new NodeWrites(
    {
      get nowMs() {
        return sim.nowMs;
      },
      rng,
      nodesReach: (a, b) => {
        const nb = sim.dataNodes.get(`${b}.sim:9000`);
        return a === b || (nb !== undefined && sim.nodeUp(nb) && !sim.leases.paused(b));
      },
      later: (ms, fn) => void sim.worldTime.after(ms, fn),
      hopMs: () => rng.int(sim.profile.maxDelaySteps + 1) * STEP_MS,
      note: (line) => sim.note(line),
      fail: (property, detail) => sim.fail(property, detail),
    },
    sim.leases,
    sim.opts.variant === 'join-before-fill' ? 'join-before-fill' : sim.opts.variant === 'join-unknown-outcome' ? 'join-unknown-outcome' : undefined,
  );
}

/** A primary's in-sync change as the API carries it out on the leader: proposed once, answered with the epoch after it. */
async function setInSync(sim: SystemSimulator, replica: CoordinatorReplica, cmd: SetInSync): Promise<number> {
  const service = sim.opts.variant === 'early-in-sync-answer' ? earlyInSyncAnswer(sim.checks.watched(replica)) : sim.checks.watched(replica);
  const out = await service.propose(cmd);
  if (!out.ok) throw new InSyncRefused(out.code);
  return epochAfterInSyncChange(cmd, out.changed);
}

export function leaseWorld(sim: SystemSimulator, fromReceipt: boolean): NodeLeases {
  const linkRng = sim.rng.fork();
  return new NodeLeases(
    {
      get nowMs() {
        return sim.nowMs;
      },
      rng: linkRng,
      replica: (id) => {
        const p = sim.proc(id);
        if (!sim.running(p) || !p.control) return undefined;
        const control = p.control;
        const replica = p.replica!;
        return { after: (ms, fn) => void p.time.after(ms, fn), renew: (req) => control.renewLease(req), setInSync: (cmd) => setInSync(sim, replica, cmd) };
      },
      replicaIds: sim.ids,
      leaderId: () => sim.leader()?.id,
      nodeReaches: (node, replica) => {
        const n = sim.dataNodes.get(`${node}.sim:9000`);
        return n !== undefined && sim.nodeUp(n) && !sim.nodeCuts.has(`${replica}|${node}`);
      },
      replicasReach: (a, b) => a === b || (!sim.network.isCut(a, b) && !sim.network.isCut(b, a)),
      later: (ms, fn) => void sim.worldTime.after(ms, fn),
      hopMs: () => linkRng.int(sim.profile.maxDelaySteps + 1) * STEP_MS,
      note: (line) => sim.note(line),
      fail: (property, detail) => sim.fail(property, detail),
    },
    fromReceipt,
    sim.profile.slowAnswerMs,
  );
}
