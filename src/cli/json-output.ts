/**
 * The one shape of `--json` output (README, "The torua command"): a single
 * JSON document on stdout,
 *
 *   {"ok": true,  "command": "nodes", "data": …}        the cluster's answer
 *   {"ok": false, "command": "nodes", "exit_code": 3,
 *    "error": {"code": "UNAVAILABLE", "message": "…"}}    what went wrong
 *
 * (a failure may carry what was learned anyway in `data`: `status` shows
 * its replicas even when the cluster does not answer)
 * and for streams (`events --follow`) one such document per line.
 */
import { errorCodeOf, describeClientError } from '../client/index.js';
import type { ExitCode } from './exit-codes.js';

export interface JsonSuccess<T = unknown> {
  readonly ok: true;
  readonly command: string;
  readonly data: T;
}

export interface JsonFailure {
  readonly ok: false;
  readonly command: string;
  readonly exit_code: ExitCode;
  readonly error: { readonly code: string; readonly message: string };
  readonly data?: unknown;
}

export function jsonSuccess(command: string, data: unknown): string {
  return `${JSON.stringify({ ok: true, command, data } satisfies JsonSuccess)}\n`;
}

export function jsonFailure(command: string, exitCode: ExitCode, err: unknown, fallbackCode = 'FAILED'): string {
  const message = err instanceof Error ? describeClientError(err) : String(err);
  const error = { code: errorCodeOf(err) ?? (exitCode === 2 ? 'USAGE' : fallbackCode), message };
  return `${JSON.stringify({ ok: false, command, exit_code: exitCode, error } satisfies JsonFailure)}\n`;
}
