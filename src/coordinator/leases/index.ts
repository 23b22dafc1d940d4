/** Data-node leases as the leader keeps them (DESIGN.md §5, §6): leader-local, in memory. */
export { LeaseTable } from './lease-table.js';
export { RecoveryBoard, type RecoveryReport, type ShardRecovery } from './recovery-board.js';
export { LeaseKeeper, type LeaseKeeperModules, type LeaseKeeperOptions, type LeaseRenewal, type Renewed } from './lease-keeper.js';
export { LoadBoard, NO_LOAD, requestsPerS, type Load, type LoadReport } from './load-board.js';
