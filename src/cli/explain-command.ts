/** `torua explain SHARD [--json]`: why the shard's copies are where they are, and what each other node says. */
import { runAdminCall } from './admin-call.js';
import { usage } from './cli-error.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';
import { formatTable } from './text-table.js';

export interface ExplainFlags extends TargetFlags {
  readonly json?: boolean | undefined;
}

const USAGE = 'usage: torua explain SHARD [--json]';

export function runExplain(args: readonly string[], flags: ExplainFlags, io: CliIo): number | Promise<number> {
  const [text, ...rest] = args;
  if (text === undefined || rest.length > 0 || !/^\d{1,5}$/.test(text)) {
    const problem = text === undefined ? 'missing the shard id' : rest.length > 0 ? `unexpected '${rest[0]}'` : `'${text}' is not a shard id`;
    const e = usage(`explain: ${problem}; ${USAGE}`);
    io.err(`torua ${e.message}\n`);
    return e.exitCode;
  }
  return runAdminCall('explain', flags, io, async (client, context) => {
    const answer = await client.shards.explain.query({ id: Number(text) }, { context });
    const copies = formatTable(
      ['NODE', 'ROLE', 'IN SYNC', 'WHY'],
      answer.copies.map((c) => [c.node, c.role, c.in_sync ? 'yes' : 'no', c.why]),
    );
    const nodes = formatTable(
      ['NODE', 'CAN HOLD', 'REASONS'],
      answer.nodes.map((n) => [n.node, n.can_hold ? 'yes' : 'no', n.reasons.map((r) => `${r.rule}: ${r.message}`).join('; ')]),
    );
    const blocked = answer.blocked_by.length === 0 ? ['nothing blocks it'] : answer.blocked_by.map((b) => `  ${b.rule}: ${b.message}`);
    return { data: answer, text: [`shard ${answer.shard} (epoch ${answer.epoch})`, '', copies, nodes, 'blocked by:', ...blocked].join('\n') };
  });
}
