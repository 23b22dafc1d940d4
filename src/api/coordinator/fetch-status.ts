/**
 * Another replica's own status, read from its `GET /health`: what the
 * replica's `fetchStatus` module needs for `/cluster/members` (the leader
 * knows match index and last contact; term, indexes and state hash only the
 * member itself does). Resolves undefined, never rejects: a member that does
 * not answer is shown with nulls.
 */
import http from 'node:http';
import { sharedAgent, webProtocol } from '../../tls/web.js';
import { httpTargetOf } from '../../data-wire/http-exchange.js';
import { z } from 'zod';
import type { ReplicaStatus } from '../../coordinator/service.js';
import { readBody } from '../http/read-body.js';

const MAX_HEALTH_BYTES = 64 * 1024;

const healthSchema = z.object({
  id: z.string(),
  cluster_id: z.string(),
  role: z.enum(['follower', 'preCandidate', 'candidate', 'leader']),
  leader: z.string().nullable(),
  term: z.number(),
  commit_index: z.number(),
  applied_index: z.number(),
  state_hash: z.string(),
  started_at_ms: z.number(),
  version: z.string(),
});

export interface FetchStatusOptions {
  /** Dial from this address (the replica's own host, DESIGN.md §1). */
  readonly localAddress?: string | undefined;
}

export function fetchReplicaStatus(apiAddress: string, timeoutMs: number, options: FetchStatusOptions = {}): Promise<ReplicaStatus | undefined> {
  const target = httpTargetOf(apiAddress);
  if (target === undefined) return Promise.resolve(undefined);
  const { host, port } = target;
  return new Promise((resolve) => {
    const req = http.get({ protocol: webProtocol(), host, port, path: '/health', localAddress: options.localAddress, agent: sharedAgent(options.localAddress), headers: { Accept: 'application/json' } });
    const timer = setTimeout(() => req.destroy(), timeoutMs);
    const done = (status: ReplicaStatus | undefined) => {
      clearTimeout(timer);
      resolve(status);
    };
    req.on('error', () => done(undefined));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        done(undefined);
        return;
      }
      readBody(res, MAX_HEALTH_BYTES).then(
        (raw) => {
          let parsed: z.infer<typeof healthSchema>;
          try {
            parsed = healthSchema.parse(JSON.parse(raw.toString('utf8')));
          } catch {
            done(undefined);
            return;
          }
          done({
            id: parsed.id,
            clusterId: parsed.cluster_id,
            role: parsed.role,
            leader: parsed.leader ?? '',
            term: parsed.term,
            commitIndex: parsed.commit_index,
            appliedIndex: parsed.applied_index,
            stateHash: parsed.state_hash,
            startedAtMs: parsed.started_at_ms,
            version: parsed.version,
          });
        },
        () => done(undefined),
      );
    });
  });
}
