/** The data node engine (DESIGN.md §6): shard stores, primary/backup replication, lease fencing. */
export { DataNode } from './data-node.js';
export type { DataNodeModules, DataNodeOptions } from './options.js';
export type * from './contract.js';
