/** The leader's loop that carries out placement plans, and the fencing rule every demotion waits for. */
export { PlacementDriver, type MeasuredLoad, type PlacementDriverModules, type PlacementDriverOptions, type PlanFunction, type RebalanceReport, type RoundReport } from './driver.js';
export { Fencer, newFencer, type FencerModules, type FencingFactory, type FencerOptions, type FenceResult, type Fencing } from './fencing.js';
export { ForcedRemoval, type ForcedRemovalModules, type ForcedRemovalOptions, type RemovalPlanFunction } from './forced-removal.js';
