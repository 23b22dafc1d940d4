/**
 * Which nodes are hot, as the leader decides it from the load the nodes
 * report: a node carrying at least `hotRatio` times the mean node load
 * (requests per second) for `hotWindowMs` without a break. Hysteresis: once
 * counted, a node stays hot until it is below the planner's target
 * (TARGET_RATIO times the mean), so load keeps moving off it until it is
 * there, not only until it is under `hotRatio`; after load was moved off it
 * there is a cool-down of COOL_DOWN_MS, longer than the nodes' load window,
 * so a shard's rate (summed over its reporters) has settled before the next
 * decision. The loads it is given are those of the shards each node leads
 * now (the driver computes them), so a move shows at once. Leader-local,
 * like the reports it reads.
 */
import type { PlacementSettings } from '../../config/index.js';
import { TARGET_RATIO } from '../placement/index.js';

/** Below this mean (requests per second) no node is hot: noise, not load. */
export const MIN_MEAN_REQUESTS_PER_S = 1;
/** The nodes report load over 10 s (src/datanode/load-meter.ts): a little longer. */
export const COOL_DOWN_MS = 12_000;

export interface HotNode {
  readonly node: string;
  readonly ratio: number;
}

export class HotTracker {
  private readonly since = new Map<string, number>();
  private readonly coolUntil = new Map<string, number>();

  /** The nodes hot now, hottest first; `loads`: requests per second of every node that may take load. */
  observe(loads: ReadonlyMap<string, number>, settings: PlacementSettings, nowMs: number): HotNode[] {
    const values = [...loads.values()];
    const mean = values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
    if (values.length < 2 || mean < MIN_MEAN_REQUESTS_PER_S) {
      this.since.clear();
      return [];
    }
    const hot: HotNode[] = [];
    for (const id of [...this.since.keys()]) if (!loads.has(id)) this.since.delete(id);
    for (const [id, load] of loads) {
      const ratio = load / mean;
      const counted = this.since.has(id);
      if (ratio >= settings.hotRatio || (counted && ratio > TARGET_RATIO)) {
        if (!counted) this.since.set(id, nowMs);
        const cooling = (this.coolUntil.get(id) ?? -Infinity) > nowMs;
        if (!cooling && nowMs - (this.since.get(id) ?? nowMs) >= settings.hotWindowMs) hot.push({ node: id, ratio });
      } else {
        this.since.delete(id);
      }
    }
    return hot.sort((a, b) => b.ratio - a.ratio || (a.node < b.node ? -1 : 1));
  }

  /** Load was moved off `node`: nothing more moves off it for COOL_DOWN_MS (it stays counted while above the target). */
  moved(node: string, nowMs: number): void {
    this.coolUntil.set(node, nowMs + COOL_DOWN_MS);
  }

  clear(): void {
    this.since.clear();
    this.coolUntil.clear();
  }
}
