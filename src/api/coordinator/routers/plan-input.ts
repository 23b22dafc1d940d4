/**
 * `cluster.plan`'s input: the changes to imagine. Checked against the table
 * before anything runs: a node named that is not in it (404), one named
 * twice, or a join of a node it holds (400), each naming the field.
 */
import { z } from 'zod';
import { strictObject } from '../../../config/index.js';
import { nodeById, type RoutingState } from '../../../coordinator/routing/index.js';
import { capacitySchema, labelsSchema, nodeIdSchema } from '../../../coordinator/routing/fields.js';
import type { PlanScenario } from '../../../coordinator/placement/index.js';
import { ClusterError, ClusterErrorCode } from '../../../errors/index.js';
import { badRequest } from '../errors/invalid-input.js';

/** Nodes one plan may name per list. */
export const MAX_PLAN_NODES = 256;

const ids = z.array(nodeIdSchema, { error: 'expected an array of node ids' }).max(MAX_PLAN_NODES, { error: `expected at most ${MAX_PLAN_NODES} node ids` });

export const planInput = strictObject({
  fail: ids.optional(),
  drain: ids.optional(),
  maintenance: ids.optional(),
  join: z
    .array(strictObject({ id: nodeIdSchema, capacity: capacitySchema, labels: labelsSchema.optional() }), { error: 'expected an array of {id, capacity, labels}' })
    .max(MAX_PLAN_NODES, { error: `expected at most ${MAX_PLAN_NODES} nodes` })
    .optional(),
});
export type PlanInput = z.infer<typeof planInput>;

/** The scenario, or the error naming the first field that does not fit the table. */
export function checkedScenario(state: RoutingState, input: PlanInput): PlanScenario {
  const named = new Map<string, string>();
  const lists = [
    ['fail', input.fail ?? []],
    ['drain', input.drain ?? []],
    ['maintenance', input.maintenance ?? []],
  ] as const;
  for (const [field, list] of lists) {
    for (const [i, id] of list.entries()) {
      if (nodeById(state, id) === undefined) {
        throw new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'node', id }, `${field}[${i}]: no node ${id} in the table`);
      }
      const other = named.get(id);
      if (other !== undefined) throw badRequest(`${field}[${i}]: ${id} is named in ${other} already`);
      named.set(id, `${field}`);
    }
  }
  for (const [i, j] of (input.join ?? []).entries()) {
    if (nodeById(state, j.id) !== undefined || named.has(j.id)) throw badRequest(`join[${i}].id: ${j.id} is a node of the table or named twice`);
    named.set(j.id, 'join');
  }
  return input;
}
