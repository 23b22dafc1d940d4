/** A coordinator replica as `GET /cluster/members` shows it (DESIGN.md §7). */
import type { MemberStatus } from '../../../coordinator/service.js';
import { formatDuration } from './duration.js';

export interface MemberInfo {
  readonly id: string;
  readonly host: string;
  readonly api_port: number;
  readonly peer_port: number;
  readonly role: MemberStatus['role'];
  readonly term: number | null;
  readonly commit_index: number | null;
  readonly applied_index: number | null;
  readonly match_index: number | null;
  /** Since this replica last heard from the member, for people; null when unknown. */
  readonly last_contact: string | null;
  readonly last_contact_ms: number | null;
  readonly state_hash: string | null;
}

export function memberInfo(m: MemberStatus): MemberInfo {
  return {
    id: m.id,
    host: m.host,
    api_port: m.apiPort,
    peer_port: m.peerPort,
    role: m.role,
    term: m.term,
    commit_index: m.commitIndex,
    applied_index: m.appliedIndex,
    match_index: m.matchIndex,
    last_contact: m.lastContactMs === null ? null : formatDuration(m.lastContactMs),
    last_contact_ms: m.lastContactMs,
    state_hash: m.stateHash,
  };
}
