import { describe, expect, it } from 'vitest';
import type { ClusterInfo, MemberInfo, ReplicaHealth } from '../../src/client/index.js';
import { renderStatus } from '../../src/cli/status-render.js';
import type { StatusReport } from '../../src/cli/status-report.js';
import { formatTable } from '../../src/cli/text-table.js';

const HASH = 'a'.repeat(64);

function replica(id: string, role: ReplicaHealth['role'], applied = 7, hash = HASH): StatusReport['replicas'][number] {
  const health = { id, role, term: 3, commit_index: 7, applied_index: applied, state_hash: hash } as ReplicaHealth;
  return { id, address: `127.0.0.1:700${id.slice(1)}`, ok: true, health, latencyMs: 2 };
}

const cluster = {
  cluster_id: 'torua-dev',
  cluster_state: 'red',
  leader: 'c1',
  leader_address: '127.0.0.1:7001',
  term: 3,
  commit_index: 7,
  total_nodes: 1,
  healthy_nodes: 0,
  total_shards: 8,
  assigned_shards: 0,
  cluster_state_reasons: ['shard 0 has no primary', 'shard 1 has no primary', 'shard 2 has no primary', 'shard 3 has no primary'],
} as unknown as ClusterInfo;

const members = [{ id: 'c1', last_contact: '0ms' }, { id: 'c2', last_contact: '12ms' }] as MemberInfo[];

describe('torua status, as text', () => {
  it('shows the cluster, then a row per replica: down ones with why; and whether state hashes agree', () => {
    const text = renderStatus({
      source: 'cluster.example.json',
      replicas: [replica('c1', 'leader'), replica('c2', 'follower'), { id: 'c3', address: '127.0.0.1:7003', ok: false, error: 'connection refused' }],
      members,
      membersError: null,
      cluster,
      clusterError: null,
    });
    expect(text).toBe(
      [
        'cluster torua-dev: red, leader c1 at 127.0.0.1:7001, term 3, commit index 7',
        '  nodes 1 (0 healthy), shards 0/8 assigned',
        '  red because: shard 0 has no primary; shard 1 has no primary; shard 2 has no primary; and 1 more',
        '',
        'ID  ADDRESS         ROLE      TERM  COMMIT  APPLIED  LAST CONTACT  STATE HASH',
        'c1  127.0.0.1:7001  leader    3     7       7        0ms           aaaaaaaaaaaa',
        'c2  127.0.0.1:7002  follower  3     7       7        12ms          aaaaaaaaaaaa',
        'c3  127.0.0.1:7003  down      -     -       -        -             -             connection refused',
        'state hashes agree (2 replicas at applied index 7)',
        '',
      ].join('\n'),
    );
  });

  it('says when the cluster does not answer, and when hashes differ at one applied index', () => {
    const text = renderStatus({
      source: '--coordinators',
      replicas: [replica('c1', 'candidate'), replica('c2', 'follower', 7, 'b'.repeat(64))],
      members: null,
      membersError: 'members.list: no coordinator could serve it (NO_LEADER)',
      cluster: null,
      clusterError: 'cluster.info: no coordinator could serve it (NO_LEADER)',
    });
    expect(text).toMatch(/^cluster: no answer \(cluster\.info: no coordinator could serve it \(NO_LEADER\)\)\n/);
    expect(text).toContain('state hashes DIFFER at applied index 7');
    expect(text).toContain('members: no answer (members.list: no coordinator could serve it (NO_LEADER)); last contact unknown');
  });

  it('pads columns, without trailing spaces', () => {
    expect(formatTable(['A', 'BB', 'C'], [['xxx', 'y', ''], ['', 'zzzz', 'w']])).toBe('A    BB    C\nxxx  y\n     zzzz  w\n');
  });
});
