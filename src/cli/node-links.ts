/**
 * The data node engine's ports (contract.ts) over HTTP: `PeerLink` over the
 * node router of each peer (createNodeClient), `CoordinatorLink` over the
 * cluster client, which follows the coordinator leader. Every failure comes
 * back as the ClusterError the other side threw, code and payload intact,
 * so the engine branches on STALE_EPOCH, CONFLICT reason RESYNC, NOT_FOUND …
 * exactly as it would in process.
 */
import {
  checkedAnswer,
  inSyncAnswerSchema,
  leaseGrantSchema,
  recoveryBeginAnswerSchema,
  recoveryFinishAnswerSchema,
  recoveryPageAnswerSchema,
  replicationAckSchema,
} from '../api/datanode/answers.js';
import type { ClusterClient } from '../client/index.js';
import { createNodeClient, DEFAULT_NODE_CALL_TIMEOUT_MS } from '../client/node-client.js';
import { toClusterError } from '../client/node-errors.js';
import { DEFAULT_TIMEOUT_MS as DEFAULT_CLUSTER_CALL_TIMEOUT_MS } from '../client/options.js';
import type {
  CoordinatorLink,
  PeerLink,
  RecoveryBegin,
  RecoveryBeginRequest,
  RecoveryFinish,
  RecoveryFinishRequest,
  RecoveryPage,
  RecoveryPageRequest,
  ReplicationAck,
  ReplicationBatch,
} from '../datanode/contract.js';

export interface PeerLinkOptions {
  /** Dial from the node's own host (DESIGN.md §1). */
  readonly localAddress?: string | undefined;
  /** One call's bound. Default DEFAULT_NODE_CALL_TIMEOUT_MS. */
  readonly timeoutMs?: number | undefined;
}

async function converted<T>(call: () => Promise<T>, operation: string, timeoutMs: number): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toClusterError(err, { operation, timeoutMs });
  }
}

export function createPeerLink(options: PeerLinkOptions = {}): PeerLink {
  const timeoutMs = options.timeoutMs ?? DEFAULT_NODE_CALL_TIMEOUT_MS;
  const clientOptions = { timeoutMs, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) };
  const peer = (address: string) => createNodeClient(address, clientOptions);
  const call = <T,>(address: string, procedure: string, run: () => Promise<T>) => converted(run, `${procedure} on ${address}`, timeoutMs);
  return {
    replicate: (address: string, batch: ReplicationBatch, signal?: AbortSignal): Promise<ReplicationAck> =>
      call(address, 'replicate', async () => checkedAnswer(replicationAckSchema, await peer(address).replicate.mutate(batch, { signal }), `replicate on ${address}`)),
    beginRecovery: (address: string, req: RecoveryBeginRequest, signal?: AbortSignal): Promise<RecoveryBegin> =>
      call(address, 'recovery.begin', async () => checkedAnswer(recoveryBeginAnswerSchema, await peer(address).recovery.begin.mutate(req, { signal }), `recovery.begin on ${address}`)),
    recoveryPage: (address: string, req: RecoveryPageRequest, signal?: AbortSignal): Promise<RecoveryPage> =>
      call(address, 'recovery.page', async () => checkedAnswer(recoveryPageAnswerSchema, await peer(address).recovery.page.mutate(req, { signal }), `recovery.page on ${address}`)),
    finishRecovery: (address: string, req: RecoveryFinishRequest, signal?: AbortSignal): Promise<RecoveryFinish> =>
      call(address, 'recovery.finish', async () => checkedAnswer(recoveryFinishAnswerSchema, await peer(address).recovery.finish.mutate(req, { signal }), `recovery.finish on ${address}`)),
  };
}

export interface CoordinatorLinkOptions {
  /** The cluster client's per-attempt timeout, named by a TIMEOUT error. Default: the client's. */
  readonly timeoutMs?: number | undefined;
}

export function createCoordinatorLink(client: ClusterClient, options: CoordinatorLinkOptions = {}): CoordinatorLink {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLUSTER_CALL_TIMEOUT_MS;
  const call = <T,>(operation: string, run: () => Promise<T>) => converted(run, operation, timeoutMs);
  return {
    async register(req, signal) {
      const { id, address, capacity, version, identity, labels } = req;
      await call(`nodes.register of ${id}`, () =>
        client.nodes.register.mutate({ id, address, capacity, version, identity, ...(labels === undefined ? {} : { labels: { ...labels } }) }, { signal }),
      );
    },
    renewLease: (req, signal) =>
      call(`nodes.renewLease of ${req.id}`, async () =>
        checkedAnswer(
          leaseGrantSchema,
          await client.nodes.renewLease.mutate({ id: req.id, identity: req.identity, ...(req.recoveries === undefined ? {} : { recoveries: [...req.recoveries] }) }, { signal }),
          'the coordinator leader (nodes.renewLease)',
        ),
      ),
    setInSync: (req, signal) =>
      call(`shards.setInSync of shard ${req.shard} for ${req.node}`, async () =>
        checkedAnswer(
          inSyncAnswerSchema,
          await client.shards.setInSync.mutate({ id: req.shard, nodeId: req.node, inSync: req.inSync, expectedEpoch: req.expectedEpoch, reason: req.reason }, { signal }),
          'the coordinator leader (shards.setInSync)',
        ),
      ),
    async drain(id, reason, signal) {
      await call(`nodes.drain of ${id}`, () => client.nodes.drain.mutate({ id, reason }, { signal }));
    },
  };
}
