/**
 * Which answers say a KV operation certainly did not take effect (`fail`)
 * and which leave it open (`unknown`). Conservative: a wrong `fail` makes
 * the checker report a violation that is not there, a wrong `unknown` only
 * weakens it. A get's outcome matters less (a failed read constrains
 * nothing), but is classified by the same rules.
 */
import type { HistoryOutcome } from './history.js';

/** Refusals a data node gives before it touches the store (DESIGN.md §6, the contract's DataNodeService). */
const NODE_REFUSALS: ReadonlySet<string> = new Set(['STALE_EPOCH', 'NOT_PRIMARY', 'NO_LEASE', 'INVALID_INPUT', 'PAYLOAD_TOO_LARGE']);
/** About the request itself, decided before anything is sent on. */
const REQUEST_REFUSALS: ReadonlySet<string> = new Set(['INVALID_INPUT', 'PAYLOAD_TOO_LARGE']);

/**
 * A coordinator's `/data/<key>` answer. The coordinator forwards to the
 * primary and retries on a fresh table after "no answer" (reset, refused)
 * as well as after STALE_EPOCH / NOT_PRIMARY, and answers with the last
 * attempt's result (src/api/coordinator/data/data-handler.ts): a refusal
 * then says nothing about an earlier attempt whose connection broke after
 * the request went out. So only a refusal of the request itself (400,
 * 413: checked before forwarding) is a certain `fail` for a write.
 * `status` 0: no answer; `refusedBeforeSending`: the connection to the
 * coordinator was refused, so nothing reached it.
 */
export function classifyRestWrite(status: number, code: string | undefined, refusedBeforeSending: boolean): HistoryOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 0) return refusedBeforeSending ? 'fail' : 'unknown';
  if (status === 400 || status === 413) return 'fail';
  if (code !== undefined && REQUEST_REFUSALS.has(code)) return 'fail';
  return 'unknown';
}

/** One attempt of the smart client, as its KvError lists them (`target` `coordinators`: a table read, nothing sent to a node). */
export interface SmartAttempt {
  readonly target: string;
  readonly code: string;
  readonly description: string;
}

export interface SmartFailure {
  readonly code: string;
  readonly status: number;
  /** Empty for an answer that stood at once (the client does not list attempts then). */
  readonly attempts: readonly SmartAttempt[];
}

/** Whether this attempt certainly left the key alone. */
export function attemptHadNoEffect(a: SmartAttempt): boolean {
  if (a.target === 'coordinators') return true;
  if (NODE_REFUSALS.has(a.code)) return true;
  // The client's own "no route" (nothing sent) and a refused connection (nothing received).
  if (a.code === 'UNAVAILABLE' && /: (shard \d+ has no primary|node \S+, primary of shard \d+, has no address|connection refused)/.test(a.description)) return true;
  return false;
}

/**
 * A smart-client write that threw: `fail` only when every attempt it made
 * certainly had no effect. Each attempt went straight to a node (no hidden
 * retries), so the list is the whole story.
 */
export function classifySmartWrite(f: SmartFailure): HistoryOutcome {
  // An answer that stood: the client drops the attempts before it, which may have stored; only a refusal of the request itself repeats on every attempt.
  if (f.attempts.length === 0) return REQUEST_REFUSALS.has(f.code) ? 'fail' : 'unknown';
  return f.attempts.every(attemptHadNoEffect) ? 'fail' : 'unknown';
}

/** A read that did not return a value: it constrains nothing, whatever happened. */
export function classifyFailedRead(): HistoryOutcome {
  return 'fail';
}
