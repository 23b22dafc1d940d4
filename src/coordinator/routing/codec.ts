/**
 * Commands as bytes in the Raft log: UTF-8 JSON of `{v, command}`.
 *
 * `v` is the format version of the envelope. A replica refuses (as a
 * rejected command, deterministically, like every other replica of its
 * version) an entry of a version it does not know, rather than guessing.
 * JSON is plenty for entries of a few hundred bytes and keeps the log
 * readable with a hex dump.
 */
import { parseCommand, type Command, type ParseResult } from './commands.js';

export const COMMAND_FORMAT_VERSION = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The entry data for a command; parse proposals with `parseCommand` first. */
export function encodeCommand(command: Command): Uint8Array {
  return encoder.encode(JSON.stringify({ v: COMMAND_FORMAT_VERSION, command }));
}

/** Bytes of an entry back to a validated command, or a rejection saying what is wrong with them. */
export function decodeCommand(data: Uint8Array): ParseResult {
  let envelope: unknown;
  try {
    envelope = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, code: 'INVALID_COMMAND', field: '(root)', message: 'entry is not UTF-8 JSON' };
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return { ok: false, code: 'INVALID_COMMAND', field: '(root)', message: 'entry is not a JSON object' };
  }
  const { v, command, ...rest } = envelope as { v?: unknown; command?: unknown };
  if (v !== COMMAND_FORMAT_VERSION) {
    return { ok: false, code: 'UNSUPPORTED_VERSION', field: 'v', message: `entry format version ${JSON.stringify(v)}; this replica reads version ${COMMAND_FORMAT_VERSION}` };
  }
  const extra = Object.keys(rest);
  if (extra.length > 0) return { ok: false, code: 'INVALID_COMMAND', field: extra[0] ?? '(root)', message: `unexpected key ${extra[0]} in the entry envelope` };
  return parseCommand(command);
}
