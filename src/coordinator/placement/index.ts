/** The placement planner (DESIGN.md §4): pure, deterministic steps from the routing table towards the goal placement. */
export { planPlacement, rebalanceSettled } from './plan.js';
export { planForcedRemoval } from './forced-removal.js';
export type { PlacementInput, PlannedStep } from './types.js';
