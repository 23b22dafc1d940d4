/** What a planned step is about, for fencing and for the log line that reports it. */
import type { Command } from '../routing/index.js';
import type { PlannedStep } from '../placement/index.js';

/** The shard a command changes and the epoch it expects, or undefined for a node command. */
export function shardOf(command: Command): { readonly shard: number; readonly epoch: number } | undefined {
  return 'shardId' in command ? { shard: command.shardId, epoch: command.expectedEpoch } : undefined;
}

/** The fields of the info line that reports a step: the command's own fields, its reason in words. */
export function stepFields(step: PlannedStep): Record<string, unknown> {
  const { atMs: _atMs, reason, type, ...rest } = step.command;
  return { step: type, ...rest, ...(step.demotes === null ? {} : { demotes: step.demotes }), reason };
}

/** The key under which a waiting step is logged once. */
export function waitKey(node: string, shard: number, epoch: number): string {
  return `${node}/${shard}/${epoch}`;
}
