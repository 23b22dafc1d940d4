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

/** Why deciding `nodeId` failed is refused, or undefined when it may be decided. */
export function stormGuardRefusal(nodes: readonly NodeHealth[], nodeId: string, minHealthyFraction: number): string | undefined {
  const present = nodes.filter((n) => statusRules(n.tableStatus).healthCount !== 'excluded' || n.nodeId === nodeId);
  const healthyAfter = present.filter((n) => n.nodeId !== nodeId && statusRules(n.tableStatus).healthCount === 'healthy' && !failing(n)).length;
  if (healthyShareKept(healthyAfter, present.length, minHealthyFraction)) return undefined;
  const failingCount = present.filter((n) => failing(n) || n.nodeId === nodeId).length;
  const percent = Math.round(minHealthyFraction * 1000) / 10;
  return `storm guard: ${failingCount} of ${present.length} nodes failing, deciding would leave ${healthyAfter} of ${present.length} healthy (< ${percent}%)`;
}
