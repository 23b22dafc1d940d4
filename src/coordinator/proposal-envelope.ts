/**
 * A proposal as it sits in the Raft log: the proposer's request id, so the
 * replica that proposed it can hand apply's outcome back to its caller, then
 * the routing command in the routing codec's format.
 *
 *   u8 version (1) · u8 id length · id (UTF-8) · command bytes
 */
import { decodeCommand, encodeCommand, type Command, type ParseResult } from './routing/index.js';

const VERSION = 1;
const MAX_ID_BYTES = 255;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeProposal(requestId: string, command: Command): Uint8Array {
  const id = encoder.encode(requestId);
  if (id.length > MAX_ID_BYTES) throw new RangeError(`request id of ${id.length} bytes (at most ${MAX_ID_BYTES})`);
  const body = encodeCommand(command);
  const out = new Uint8Array(2 + id.length + body.length);
  out[0] = VERSION;
  out[1] = id.length;
  out.set(id, 2);
  out.set(body, 2 + id.length);
  return out;
}

export type DecodedProposal = { readonly requestId: string; readonly parsed: ParseResult };

/** Never throws: a malformed entry is a rejected command (every replica rejects it alike). */
export function decodeProposal(data: Uint8Array): DecodedProposal {
  if (data.length < 2 || data[0] !== VERSION || data.length < 2 + data[1]!) {
    return { requestId: '', parsed: { ok: false, code: 'UNSUPPORTED_VERSION', field: '(root)', message: 'entry is not a version-1 proposal' } };
  }
  let requestId: string;
  try {
    requestId = decoder.decode(data.subarray(2, 2 + data[1]!));
  } catch {
    return { requestId: '', parsed: { ok: false, code: 'INVALID_COMMAND', field: '(root)', message: 'request id is not UTF-8' } };
  }
  return { requestId, parsed: decodeCommand(data.subarray(2 + data[1]!)) };
}

/** The same proposal with the command's `atMs` replaced (the leader stamps its clock into forwarded proposals). */
export function restampProposal(data: Uint8Array, atMs: number): Uint8Array {
  const { requestId, parsed } = decodeProposal(data);
  if (!parsed.ok) return data;
  return encodeProposal(requestId, { ...parsed.command, atMs } as Command);
}
