/**
 * The calls a coordinator replica makes besides Raft, simulated: probes of
 * data nodes (NodeLink) and confirmation requests to the other replicas
 * (ReplicaLink). Each crosses the simulated network: it waits a delay drawn
 * from the seed, is lost on a cut link or at a dead end, and then the caller
 * sees its own deadline pass (timers of the caller's simulated time).
 */
import type { NodeLink, NodeProbe } from '../../../src/coordinator/node-link.js';
import type { ConfirmAnswer, ConfirmRequest, ReplicaLink } from '../../../src/coordinator/health/index.js';
import type { Timers } from '../../../src/common/clock.js';

/** What the links need of the world. */
export interface LinkWorld {
  /** A delay for one hop, in ms, drawn from the seed. */
  hopMs(): number;
  /** The data node model at `address` if it is up and `from` reaches it. */
  nodeAt(from: string, address: string): { readonly id: string } | undefined;
  /** The replica serving `apiAddress`, if it runs (not crashed, not paused) and `from` reaches it. */
  replicaAt(from: string, apiAddress: string): { confirmProbe(req: ConfirmRequest): Promise<ConfirmAnswer> } | undefined;
  /** The lease as node `id` sees it on its own clock (what its health answer reports). */
  leaseOf(id: string): NodeProbe['lease'];
  /** A handoff reaching the node `id`: it stops serving the shard and answers. */
  handoff(id: string, req: { readonly shard: number; readonly epoch: number }): { readonly lastSeq: number; readonly caughtUp: boolean };
  /** Whether `from` (still the same process) may see an answer now. */
  callerAlive(from: string, incarnation: number): boolean;
}

/** Settles after a hop there and a hop back, or rejects at the caller's deadline when either hop is lost. */
function call<T>(timers: Timers, timeoutMs: number, what: string, there: () => Promise<T> | undefined, back: () => boolean, world: LinkWorld, alive: () => boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled || !alive()) return;
      settled = true;
      deadline.cancel();
      f();
    };
    const deadline = timers.after(timeoutMs, () => settle(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`))));
    timers.after(world.hopMs(), () => {
      const answer = there();
      if (answer === undefined) return;
      answer.then(
        (v) => timers.after(world.hopMs(), () => back() && settle(() => resolve(v))),
        (e: unknown) => timers.after(world.hopMs(), () => back() && settle(() => reject(e))),
      );
    });
  });
}

export function simNodeLink(from: string, incarnation: number, timers: Timers, world: LinkWorld): NodeLink {
  const alive = (): boolean => world.callerAlive(from, incarnation);
  /** A call to the node at `address`: `answer` runs on the node if the call reaches it. */
  const toNode = <T>(what: string, address: string, timeoutMs: number, answer: (id: string) => T): Promise<T> =>
    call(
      timers,
      timeoutMs,
      `${what} ${address}`,
      () => {
        const node = world.nodeAt(from, address);
        return node ? Promise.resolve(answer(node.id)) : undefined;
      },
      () => world.nodeAt(from, address) !== undefined,
      world,
      alive,
    );
  return {
    probe: (address, timeoutMs) => toNode('probe of', address, timeoutMs, (id) => ({ status: 'ok' as const, id, lease: world.leaseOf(id) })),
    handoff: (address, req, timeoutMs) => toNode('handoff to', address, timeoutMs, (id) => world.handoff(id, req)),
  };
}

export function simReplicaLink(from: string, incarnation: number, timers: Timers, world: LinkWorld): ReplicaLink {
  const alive = (): boolean => world.callerAlive(from, incarnation);
  return {
    confirm(apiAddress, req, timeoutMs) {
      return call(timers, timeoutMs, `confirmation by ${apiAddress}`, () => world.replicaAt(from, apiAddress)?.confirmProbe(req), () => world.replicaAt(from, apiAddress) !== undefined, world, alive);
    },
  };
}
