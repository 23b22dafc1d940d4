/**
 * The data-node half of what `torua cluster up` reports: one line when a
 * node starts answering, gains or loses its lease, or stops answering.
 * Pure, like cluster-watch.ts: the command feeds it health probes.
 */
import { exchangeJson } from '../api/http/json-exchange.js';
import { webOrigin } from '../tls/web.js';
import { MISSES_BEFORE_DOWN } from './cluster-watch.js';

const MAX_HEALTH_BYTES = 64 * 1024;

/** A node's `GET /health` as far as the display needs it, or why it did not answer. */
export type NodeWatchProbe =
  | { readonly ok: true; readonly status: string; readonly leaseValid: boolean; readonly leader: string | null }
  | { readonly ok: false; readonly error: string };

export interface NodeWatchEntry {
  readonly up: boolean;
  readonly misses: number;
  readonly leaseValid: boolean;
}

export type NodeWatchState = ReadonlyMap<string, NodeWatchEntry>;

export const initialNodeWatchState: NodeWatchState = new Map();

/** `probes[i]` is of the node `ids[i]`. */
export function nodeWatchStep(prev: NodeWatchState, ids: readonly string[], probes: readonly NodeWatchProbe[]): { state: NodeWatchState; lines: string[] } {
  const lines: string[] = [];
  const next = new Map(prev);
  probes.forEach((p, i) => {
    const id = ids[i] ?? `node ${i}`;
    const before = prev.get(id);
    if (p.ok) {
      if (before === undefined || !before.up) lines.push(`${id} up (${p.status})`);
      if (p.leaseValid && before?.leaseValid !== true) lines.push(`${id} holds a lease${p.leader === null ? '' : ` from ${p.leader}`}`);
      if (!p.leaseValid && before?.leaseValid === true) lines.push(`${id} lost its lease: it refuses writes until it gets a new one`);
      next.set(id, { up: true, misses: 0, leaseValid: p.leaseValid });
      return;
    }
    const misses = (before?.misses ?? 0) + 1;
    const wasUp = before?.up === true;
    const down = wasUp && misses >= MISSES_BEFORE_DOWN;
    if (down) lines.push(`${id} down (${p.error})`);
    next.set(id, { up: wasUp && !down, misses, leaseValid: down ? false : (before?.leaseValid ?? false) });
  });
  return { state: next, lines };
}

/** One node's health, bounded by `timeoutMs`; never throws. */
export async function probeNode(address: string, timeoutMs: number): Promise<NodeWatchProbe> {
  try {
    const answer = await exchangeJson({ method: 'GET', url: `${webOrigin(address)}/health`, timeoutMs, maxAnswerBytes: MAX_HEALTH_BYTES });
    if (answer.kind !== 'answer') return { ok: false, error: answer.kind === 'timeout' ? 'TimeoutError' : answer.why };
    if (answer.statusCode !== 200) return { ok: false, error: `HTTP ${answer.statusCode}` };
    const body = (answer.json ?? {}) as { status?: unknown; lease?: { valid?: unknown; leader?: unknown } };
    return {
      ok: true,
      status: typeof body.status === 'string' ? body.status : 'unknown',
      leaseValid: body.lease?.valid === true,
      leader: typeof body.lease?.leader === 'string' ? body.lease.leader : null,
    };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { ok: false, error: err.cause?.code ?? err.name };
  }
}
