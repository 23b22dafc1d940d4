/**
 * `torua plan [--fail ID]… [--drain ID]… [--maintenance ID]… [--new-node ID:CAPACITY[:zone=Z]]… [--json]`:
 * what the placement planner would do, in order, if those nodes failed,
 * drained, went into maintenance or joined (POST /cluster/plan); changes nothing.
 */
import { runAdminCall } from './admin-call.js';
import { CliError, usage } from './cli-error.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';
import { formatTable } from './text-table.js';

export interface PlanFlags extends TargetFlags {
  readonly fail?: string[] | undefined;
  readonly drain?: string[] | undefined;
  readonly maintenance?: string[] | undefined;
  /** `--new-node`: nodes that would join. */
  readonly newNode?: string[] | undefined;
  readonly json?: boolean | undefined;
}

const ids = (values: readonly string[] | undefined) => (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');

/** `n5:16` or `n5:16:zone=b,rack=r1`. */
export function parseJoin(text: string): { id: string; capacity: number; labels: Record<string, string> } {
  const [id, capacity, labels] = text.split(':');
  if (id === undefined || id === '' || capacity === undefined || !/^\d{1,7}$/.test(capacity)) {
    throw usage(`plan: --new-node ${text}: expected ID:CAPACITY or ID:CAPACITY:key=value,…`);
  }
  const pairs = (labels ?? '').split(',').filter((p) => p !== '');
  const entries = pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw usage(`plan: --new-node ${text}: label '${p}' is not key=value`);
    return [p.slice(0, eq), p.slice(eq + 1)] as const;
  });
  return { id, capacity: Number(capacity), labels: Object.fromEntries(entries) };
}

export function runPlan(flags: PlanFlags, io: CliIo): number | Promise<number> {
  let input;
  try {
    input = { fail: ids(flags.fail), drain: ids(flags.drain), maintenance: ids(flags.maintenance), join: (flags.newNode ?? []).map(parseJoin) };
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`torua ${e.message}\n`);
    return e.exitCode;
  }
  return runAdminCall('plan', flags, io, async (client, context) => {
    const plan = await client.cluster.plan.mutate(input, { context });
    const moves = plan.moves.map((m, i) => [String(i + 1), m.shard === null ? '-' : String(m.shard), m.command, m.node ?? '-', m.reason]);
    const counts = Object.entries(plan.result.nodes).map(([id, c]) => [id, String(c.copies), String(c.primaries)]);
    const text = [
      plan.moves.length === 0 ? 'no moves' : formatTable(['#', 'SHARD', 'COMMAND', 'NODE', 'REASON'], moves).trimEnd(),
      '',
      formatTable(['NODE', 'COPIES', 'PRIMARIES'], counts).trimEnd(),
      plan.result.under_replicated.length === 0 ? 'no shard left under-replicated' : `left under-replicated: shards ${plan.result.under_replicated.join(', ')}`,
      ...plan.notes.map((n) => `note: ${n}`),
    ].join('\n');
    return { data: plan, text };
  });
}
