/**
 * The leader's storm guard (DESIGN.md §5), pure: a failure decision is not
 * proposed when it would leave fewer than `minHealthyFraction` of the nodes
 * that have not left healthy. Unlike the table's own check (apply-node.ts),
 * which sees committed statuses only, the leader also counts the nodes it
 * suspects: two nodes failing at once must not be decided one after the
 * other, each passing alone. Which nodes count, and as what, is the status
 * table's (routing/node-status.ts): planned absences count neither way.
 */
import { healthyShareKept, statusRules } from '../routing/index.js';
import { failing, type NodeHealth } from './detector.js';

/** What the guard needs of all nodes, counted once per monitor round (not once per suspect: that is quadratic). */
export interface StormCounts {
  /** Nodes that have not left. */
  readonly present: number;
  /** Of them, healthy in the table and not failing. */
  readonly healthy: number;
  /** Of them, failing (suspect, or unhealthy in the table). */
  readonly failing: number;
}

const counted = (n: NodeHealth): boolean => statusRules(n.tableStatus).healthCount !== 'excluded';
const countsHealthy = (n: NodeHealth): boolean => statusRules(n.tableStatus).healthCount === 'healthy' && !failing(n);

export function stormCounts(nodes: Iterable<NodeHealth>): StormCounts {
  let present = 0;
  let healthy = 0;
  let failingCount = 0;
  for (const n of nodes) {
    if (!counted(n)) continue;
    present++;
    if (countsHealthy(n)) healthy++;
    if (failing(n)) failingCount++;
  }
  return { present, healthy, failing: failingCount };
}

/**
 * Why deciding `node` failed is refused, given the counts of every node, or
 * undefined when it may be decided. The node itself is counted even when its
 * status is not (it would be failing), and no longer as healthy.
 */
export function stormGuardRefusalOf(counts: StormCounts, node: NodeHealth | undefined, minHealthyFraction: number): string | undefined {
  const inCounts = node !== undefined && counted(node);
  const present = counts.present + (node !== undefined && !inCounts ? 1 : 0);
  const healthyAfter = counts.healthy - (node !== undefined && inCounts && countsHealthy(node) ? 1 : 0);
  if (healthyShareKept(healthyAfter, present, minHealthyFraction)) return undefined;
  const failingCount = counts.failing + (node !== undefined && !(inCounts && failing(node)) ? 1 : 0);
  const percent = Math.round(minHealthyFraction * 1000) / 10;
  return `storm guard: ${failingCount} of ${present} nodes failing, deciding would leave ${healthyAfter} of ${present} healthy (< ${percent}%)`;
}

/** Why deciding `nodeId` failed is refused, or undefined when it may be decided. */
export function stormGuardRefusal(nodes: readonly NodeHealth[], nodeId: string, minHealthyFraction: number): string | undefined {
  return stormGuardRefusalOf(stormCounts(nodes), nodes.find((n) => n.nodeId === nodeId), minHealthyFraction);
}
