/** Operations in words, for violation reports: `get k7 by client 2 at [120.1, 121.0] returned v5`. */
import type { HistoryOp } from '../history.js';

export const ms = (t: number): string => t.toFixed(1);

/** What a get returned. */
export const returned = (value: string | null): string => (value === null ? 'not found' : value);

function interval(op: HistoryOp): string {
  if (op.outcome === 'unknown') return `invoked at ${ms(op.invoke)}, outcome unknown`;
  return `at [${ms(op.invoke)}, ${ms(op.complete!)}]${op.outcome === 'fail' ? ', failed' : ''}`;
}

/** The whole operation, key included. */
export function describeOp(op: HistoryOp): string {
  switch (op.op) {
    case 'get':
      return `get ${op.key} by client ${op.client} ${interval(op)}${op.outcome === 'ok' ? ` returned ${returned(op.value)}` : ''}`;
    case 'put':
      return `put ${op.key}=${op.value} by client ${op.client} ${interval(op)}`;
    case 'delete':
      return `delete ${op.key} by client ${op.client} ${interval(op)}`;
  }
}

/** A write in a sentence that already named the key: `put v6 (client 1, completed 110.2)`. */
export function describeWrite(op: HistoryOp): string {
  const what = op.op === 'put' ? `put ${op.value}` : 'delete';
  const when = op.outcome === 'ok' ? `completed ${ms(op.complete!)}` : op.outcome === 'unknown' ? `invoked ${ms(op.invoke)}, outcome unknown` : 'failed';
  return `${what} (client ${op.client}, ${when})`;
}
