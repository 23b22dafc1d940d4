/**
 * The state machine's snapshot: the whole table as UTF-8 JSON in a small
 * envelope. Restoring validates the shape with zod and the cross-field
 * invariants, so a corrupt snapshot is a clear error, never a half-read table.
 * The round trip is exact: the restored state has the same hash.
 */
import { canonicalJson } from './canonical-json.js';
import { invariantViolations } from './invariants.js';
import { routingStateSchema } from './state-schema.js';
import type { RoutingState } from './types.js';
import { describeIssues } from '../../common/zod-issues.js';

export const SNAPSHOT_FORMAT = 'torua.routing-state';
export const SNAPSHOT_VERSION = 1;

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  /** The offending field of the state, when one is to blame. */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Canonical JSON, so equal states also give equal snapshot bytes. */
export function serializeState(state: RoutingState): Uint8Array {
  return encoder.encode(`{"format":${JSON.stringify(SNAPSHOT_FORMAT)},"state":${canonicalJson(state)},"version":${SNAPSHOT_VERSION}}`);
}

/** Throws SnapshotError saying what is wrong. */
export function deserializeState(bytes: Uint8Array): RoutingState {
  let envelope: unknown;
  try {
    envelope = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new SnapshotError(`routing snapshot is not UTF-8 JSON (${bytes.length} bytes): ${e instanceof Error ? e.message : String(e)}`);
  }
  const { format, version, state } = (typeof envelope === 'object' && envelope !== null ? envelope : {}) as Record<string, unknown>;
  if (format !== SNAPSHOT_FORMAT) throw new SnapshotError(`not a routing snapshot (format ${JSON.stringify(format)})`, 'format');
  if (version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(`routing snapshot version ${JSON.stringify(version)}; this build reads version ${SNAPSHOT_VERSION}`, 'version');
  }
  const parsed = routingStateSchema.safeParse(state);
  if (!parsed.success) {
    const { field, message } = describeIssues(parsed.error, ['state']);
    throw new SnapshotError(`corrupt routing snapshot: ${message}`, field);
  }
  const violations = invariantViolations(parsed.data);
  if (violations.length > 0) throw new SnapshotError(`inconsistent routing snapshot: ${violations.slice(0, 3).join('; ')}`);
  return parsed.data;
}
