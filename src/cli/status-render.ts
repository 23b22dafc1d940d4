/** `torua status` as text: the cluster in a few lines, then one row per replica. */
import type { StatusReport } from './status-report.js';
import { formatTable } from './text-table.js';

const HASH_CHARS = 12;
const MAX_REASONS = 3;

function clusterLines(r: StatusReport): string[] {
  const c = r.cluster;
  if (c === null) return [`cluster: no answer (${r.clusterError ?? 'unknown error'})`];
  const leader = c.leader === null ? 'no leader' : `leader ${c.leader}${c.leader_address === null ? '' : ` at ${c.leader_address}`}`;
  const lines = [
    `cluster ${c.cluster_id}: ${c.cluster_state}, ${leader}, term ${c.term}, commit index ${c.commit_index}`,
    `  nodes ${c.total_nodes} (${c.healthy_nodes} healthy), shards ${c.assigned_shards}/${c.total_shards} assigned`,
  ];
  const reasons = c.cluster_state_reasons;
  if (reasons.length > 0) {
    const more = reasons.length > MAX_REASONS ? `; and ${reasons.length - MAX_REASONS} more` : '';
    lines.push(`  ${c.cluster_state} because: ${reasons.slice(0, MAX_REASONS).join('; ')}${more}`);
  }
  return lines;
}

/** Replicas that answered at the same applied index must have the same state hash (DESIGN.md §4). */
function hashLine(r: StatusReport): string | undefined {
  const up = r.replicas.flatMap((p) => (p.ok ? [p.health] : []));
  if (up.length < 2) return undefined;
  const byIndex = new Map<number, Set<string>>();
  for (const h of up) byIndex.set(h.applied_index, (byIndex.get(h.applied_index) ?? new Set()).add(h.state_hash));
  const split = [...byIndex].filter(([, hashes]) => hashes.size > 1).map(([i]) => i);
  if (split.length > 0) return `state hashes DIFFER at applied index ${split.join(', ')}`;
  if (byIndex.size === 1) return `state hashes agree (${up.length} replicas at applied index ${up[0]?.applied_index})`;
  return `state hashes agree where applied indexes are equal (replicas at ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`;
}

export function renderStatus(r: StatusReport): string {
  const contact = new Map((r.members ?? []).map((m) => [m.id, m.last_contact]));
  const rows = r.replicas.map((p) => {
    const id = p.id ?? '?';
    if (!p.ok) return [id, p.address, 'down', '-', '-', '-', '-', '-', p.error];
    const h = p.health;
    return [id, p.address, h.role, String(h.term), String(h.commit_index), String(h.applied_index), contact.get(h.id) ?? '-', h.state_hash.slice(0, HASH_CHARS), ''];
  });
  const table = formatTable(['ID', 'ADDRESS', 'ROLE', 'TERM', 'COMMIT', 'APPLIED', 'LAST CONTACT', 'STATE HASH', ''], rows);
  const hashes = hashLine(r);
  const members = r.members === null ? [`members: no answer (${r.membersError ?? 'unknown error'}); last contact unknown`] : [];
  return [...clusterLines(r), '', table.trimEnd(), ...(hashes === undefined ? [] : [hashes]), ...members].join('\n') + '\n';
}
