/** Short constructors for hand-written histories. */
import type { HistoryOp, HistoryOutcome } from '../../scripts/chaos/history.js';

type Span = [invoke: number, complete: number | null];

export const put = (client: number, key: string, value: string, [invoke, complete]: Span, outcome: HistoryOutcome = 'ok'): HistoryOp => ({
  client,
  op: 'put',
  key,
  value,
  invoke,
  complete,
  outcome,
});

export const del = (client: number, key: string, [invoke, complete]: Span, outcome: HistoryOutcome = 'ok'): HistoryOp => ({
  client,
  op: 'delete',
  key,
  value: null,
  invoke,
  complete,
  outcome,
});

export const get = (client: number, key: string, value: string | null, [invoke, complete]: Span, outcome: HistoryOutcome = 'ok'): HistoryOp => ({
  client,
  op: 'get',
  key,
  value,
  invoke,
  complete,
  outcome,
});
