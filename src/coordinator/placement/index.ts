/** The placement planner (DESIGN.md §4): pure, deterministic steps from the routing table towards the goal placement. */
export { planPlacement, rebalanceSettled } from './plan.js';
export { planForcedRemoval } from './forced-removal.js';
export type { PlacementInput, PlannedStep } from './types.js';
export { explainShard, EXPLAIN_RULES, type ExplainInput, type ExplainRule, type ShardExplanation } from './explain.js';
export { dryRun, type DryRunResult, type PlanScenario, type PlannedMove } from './dry-run.js';
export { zoneOf } from './zones.js';
export { planHotspots, TARGET_RATIO, type LoadInput } from './hotspot.js';
