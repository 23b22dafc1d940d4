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
import { createNodeClient, DEFAULT_NODE_CALL_TIMEOUT_MS, postToNode } from '../client/node-client.js';
import type { AgentAnswer } from '../client/node-fetch.js';
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
import { encodeReplicationFrame, REPLICATION_FRAME_CONTENT_TYPE } from '../datanode/wire/replication-frame.js';
import { REPLICATE_PATH } from '../api/datanode/replicate-route.js';
import { renewLeaseBody, type LeaseRenewer } from './lease-renewer.js';

export interface PeerLinkOptions {
  /** Dial from the node's own host (DESIGN.md §1). */
  readonly localAddress?: string | undefined;
  /** One call's bound. Default DEFAULT_NODE_CALL_TIMEOUT_MS. */
  readonly timeoutMs?: number | undefined;
  /** The cluster's internal token, when it has auth (peers refuse replication and recovery calls without it). */
  readonly token?: string | undefined;
}

async function converted<T>(call: () => Promise<T>, operation: string, timeoutMs: number): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toClusterError(err, { operation, timeoutMs });
  }
}

/** An answer's JSON body, or undefined when it has none. */
function jsonOf(answer: AgentAnswer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The ack of a `POST /peer/replicate`; a refusal becomes the error the
 * replica threw (its §7 body read as tRPC error data, so toClusterError
 * keeps code and payload exactly as over the tRPC procedure).
 */
function replicateAnswer(answer: AgentAnswer, operation: string): ReplicationAck {
  const body = jsonOf(answer);
  if (answer.status === 200) return checkedAnswer(replicationAckSchema, body, operation);
  const error = (body as { error?: unknown } | undefined)?.error;
  const data = typeof error === 'object' && error !== null ? error : { message: `HTTP ${answer.status}: ${answer.body.toString('utf8', 0, Math.min(answer.body.length, 200))}` };
  const message = (data as { message?: unknown }).message;
  throw Object.assign(new Error(typeof message === 'string' ? message : `HTTP ${answer.status}`), { data });
}

export function createPeerLink(options: PeerLinkOptions = {}): PeerLink {
  const timeoutMs = options.timeoutMs ?? DEFAULT_NODE_CALL_TIMEOUT_MS;
  const clientOptions = { timeoutMs, token: options.token, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) };
  const peer = (address: string) => createNodeClient(address, clientOptions);
  const call = <T,>(address: string, procedure: string, run: () => Promise<T>) => converted(run, `${procedure} on ${address}`, timeoutMs);
  return {
    // The binary frame, not the tRPC procedure: this is the hot path of every write.
    replicate: (address: string, batch: ReplicationBatch, signal?: AbortSignal): Promise<ReplicationAck> =>
      call(address, 'replicate', async () =>
        replicateAnswer(await postToNode(address, REPLICATE_PATH, encodeReplicationFrame(batch), REPLICATION_FRAME_CONTENT_TYPE, clientOptions, signal), `replicate on ${address}`),
      ),
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
  /**
   * Where lease renewals go, one attempt per call (the LeaseHolder times
   * and repeats them). Without one they go through the cluster client, which
   * follows the leader with its own retries.
   */
  readonly renewer?: LeaseRenewer | undefined;
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
      options.renewer !== undefined
        ? options.renewer.renew(req, signal)
        : call(`nodes.renewLease of ${req.id}`, async () =>
        checkedAnswer(
          leaseGrantSchema,
          await client.nodes.renewLease.mutate(renewLeaseBody(req), { signal }),
          'the coordinator leader (nodes.renewLease)',
        ),
      ),
    setInSync: (req, signal) =>
      call(`shards.setInSync of shard ${req.shard} for ${req.node}`, async () =>
        checkedAnswer(
          inSyncAnswerSchema,
          await client.shards.setInSync.mutate(
            { id: req.shard, nodeId: req.node, inSync: req.inSync, expectedEpoch: req.expectedEpoch, reason: req.reason, ...(req.copiedBytes === undefined ? {} : { copiedBytes: req.copiedBytes }) },
            { signal },
          ),
          'the coordinator leader (shards.setInSync)',
        ),
      ),
    async drain(id, reason, signal) {
      await call(`nodes.drain of ${id}`, () => client.nodes.drain.mutate({ id, reason }, { signal }));
    },
  };
}
