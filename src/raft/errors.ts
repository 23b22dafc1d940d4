import type { MemberId } from './types.js';

/** Why the core refused an input. One code per refusal an operator can act on. */
export enum RaftErrorCode {
  /** No leader is known, so the request cannot be forwarded. */
  NoLeader = 'NO_LEADER',
  /** The operation must run on the leader (membership changes). `leader` names it if known. */
  NotLeader = 'NOT_LEADER',
  /** A leadership transfer is in progress; proposals resume when it ends. */
  TransferInProgress = 'TRANSFER_IN_PROGRESS',
  /** Another membership change is not committed yet: one change at a time. */
  ConfChangeInProgress = 'CONF_CHANGE_IN_PROGRESS',
  /** The membership change does not make sense for the current configuration. */
  InvalidConfChange = 'INVALID_CONF_CHANGE',
  /** A learner can only be promoted once it has caught up with the commit index. */
  LearnerNotCaughtUp = 'LEARNER_NOT_CAUGHT_UP',
  /** Too many uncommitted proposals or pending reads: back off and retry. */
  Overloaded = 'OVERLOADED',
  /** The requested operation cannot run on this replica (not a voter, unknown peer). */
  InvalidRequest = 'INVALID_REQUEST',
  /** The persisted state contradicts itself (e.g. commit beyond the last entry). */
  CorruptState = 'CORRUPT_STATE',
  /** The application broke the ready/advance contract. */
  ContractViolation = 'CONTRACT_VIOLATION',
}

export interface RaftErrorPayload {
  /** The leader as this replica knows it (NONE if unknown). */
  readonly leader?: MemberId;
  readonly term?: number;
  readonly [key: string]: unknown;
}

export class RaftError extends Error {
  override readonly name = 'RaftError';
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    readonly payload: RaftErrorPayload = {},
  ) {
    super(message);
  }
}
