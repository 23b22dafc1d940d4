import { ClusterErrorCode } from './public-codes.js';
import { TypedError } from './typed-error.js';

/** Why a process could not get its configuration; it stops with the message. */
export enum ConfigErrorCode {
  /** The file could not be read (missing, unreadable). */
  ReadFailed = 'CONFIG_READ_FAILED',
  /** The file is not JSON; `line`/`column` point at the first error when known. */
  InvalidJson = 'CONFIG_INVALID_JSON',
  /** The JSON does not match the schema, or a command-line override is invalid; `issues` has one line each. */
  Invalid = 'CONFIG_INVALID',
  /** `--id` names no coordinator (or node) of the file; `knownIds` lists those it has. */
  UnknownId = 'CONFIG_UNKNOWN_ID',
}

export type ConfigErrorType =
  | { code: ConfigErrorCode.ReadFailed; file: string; reason: string }
  | { code: ConfigErrorCode.InvalidJson; file: string; line?: number; column?: number }
  | { code: ConfigErrorCode.Invalid; file: string; issues: readonly string[] }
  | { code: ConfigErrorCode.UnknownId; file: string; id: string; role: 'coordinator' | 'node'; knownIds: readonly string[] };

/**
 * A configuration problem. The message is complete on its own (file, field,
 * expected, found), because the CLI prints it and exits.
 */
export class ConfigError extends TypedError<ConfigErrorType> {
  override readonly name = 'ConfigError';

  /** The server's own configuration is no client's fault. */
  get publicCode(): ClusterErrorCode {
    return ClusterErrorCode.Internal;
  }
}
