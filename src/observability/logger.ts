import type { LogLevel, MessageLevel } from './log-level.js';

/**
 * Structured fields of one line. By convention: `err` for an Error (logged
 * with its stack), ids as `replica`, `node`, `shard`, `peer`, durations with
 * their unit (`elapsedMs`).
 */
export type LogFields = Readonly<Record<string, unknown>>;

export type LogMethod = (msg: string, fields?: LogFields) => void;

/**
 * What every layer logs through. Message first (it is what a person scans
 * for), fields second; `child` binds fields (replica id, term, role …) to
 * every line of the returned logger.
 */
export interface Logger {
  readonly level: LogLevel;
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** For fields that cost something to compute. */
  isLevelEnabled(level: MessageLevel): boolean;
  child(bindings: LogFields): Logger;
}
