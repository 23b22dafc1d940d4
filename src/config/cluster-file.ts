import { z } from 'zod';
import { authSchema } from './auth.js';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS } from '../observability/log-level.js';
import { hostSchema, idSchema, intInRange, labelsSchema, portSchema, strictObject } from './fields.js';
import { notificationsSchema } from './notifications.js';
import { raftSettingsSchema } from './raft-settings.js';
import { clusterSettingsSchema } from './settings.js';
import { formatPath } from '../common/zod-issues.js';

export const logLevelSchema = z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` });

export const coordinatorEntrySchema = strictObject({
  id: idSchema,
  host: hostSchema,
  /** HTTP: tRPC under /trpc, REST, /metrics, dashboard. */
  apiPort: portSchema,
  /** Raft traffic between replicas only. */
  peerPort: portSchema,
});

export const nodeEntrySchema = strictObject({
  id: idSchema,
  host: hostSchema,
  port: portSchema,
  /** Most shards (primaries and replicas) this node may hold. */
  capacity: intInRange(1, 65_536),
  labels: labelsSchema.optional(),
});

/**
 * The file's `replicationFactor` is the initial replicated one: `settings`
 * may repeat it (it must agree) or leave it out.
 */
const fileSettingsSchema = clusterSettingsSchema
  .extend({ replicationFactor: clusterSettingsSchema.shape.replicationFactor.unwrap().optional() })
  .prefault({});

const clusterFileShape = strictObject({
  /** Sent in every peer handshake: replicas of another cluster are refused. */
  clusterId: idSchema,
  /** Each process keeps its data under `<dataDir>/<id>`. */
  dataDir: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }),
  /** Fixed for the life of the cluster: keys map to `hash(key) mod shards`. */
  shards: intInRange(1, 16_384),
  replicationFactor: intInRange(1, 7),
  coordinators: z
    .array(coordinatorEntrySchema, { error: 'expected an array of coordinators' })
    .min(1, { error: 'expected 1 to 7 coordinators (3 or 5 survive failures)' })
    .max(7, { error: 'expected 1 to 7 coordinators (3 or 5 survive failures)' }),
  /** May be empty: nodes can join later with `torua node --coordinators`. */
  nodes: z.array(nodeEntrySchema, { error: 'expected an array of nodes' }).max(4_096, { error: 'expected at most 4096 nodes' }),
  raft: raftSettingsSchema.prefault({}),
  /** The initial replicated settings; later changes go through `PUT /cluster/config`. */
  settings: fileSettingsSchema,
  notifications: notificationsSchema.prefault({}),
  logLevel: logLevelSchema.default(DEFAULT_LOG_LEVEL),
  /**
   * Mutual TLS between every process: `dir` (relative to the file) holds
   * `ca.crt` and `<id>.crt` + `<id>.key` for every coordinator and node
   * (`torua certs create` makes them). Absent: plaintext, and only on loopback.
   */
  tls: strictObject({ dir: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }) }).optional(),
  /** Bearer tokens and roles for the API; left out, the API is open to whoever reaches it. */
  auth: authSchema.optional(),
});

type Shape = z.output<typeof clusterFileShape>;

/** One key per listening address: `localhost` and 127.0.0.1 are one address (a port clash, a node at a coordinator's port). */
export const endpointKey = (host: string, port: number) => `${host.toLowerCase() === 'localhost' ? '127.0.0.1' : host.toLowerCase()}:${port}`;

function checkCrossFields(f: Shape, ctx: z.RefinementCtx): void {
  const ids = new Map<string, string>();
  const endpoints = new Map<string, string>();
  const claimId = (id: string, path: (string | number)[]) => {
    const first = ids.get(id);
    if (first === undefined) ids.set(id, formatPath(path));
    else ctx.addIssue({ code: 'custom', path, input: id, message: `expected an id unique among coordinators and nodes (${first} has it too)` });
  };
  const claimEndpoint = (host: string, port: number, path: (string | number)[]) => {
    const key = endpointKey(host, port);
    const first = endpoints.get(key);
    if (first === undefined) endpoints.set(key, formatPath(path));
    else ctx.addIssue({ code: 'custom', path, input: port, message: `expected a host:port no other listener uses (${first} is ${key} too)` });
  };
  f.coordinators.forEach((c, i) => {
    claimId(c.id, ['coordinators', i, 'id']);
    claimEndpoint(c.host, c.apiPort, ['coordinators', i, 'apiPort']);
    claimEndpoint(c.host, c.peerPort, ['coordinators', i, 'peerPort']);
  });
  f.nodes.forEach((n, i) => {
    claimId(n.id, ['nodes', i, 'id']);
    claimEndpoint(n.host, n.port, ['nodes', i, 'port']);
  });
  const repeated = f.settings.replicationFactor;
  if (repeated !== undefined && repeated !== f.replicationFactor) {
    ctx.addIssue({
      code: 'custom',
      path: ['settings', 'replicationFactor'],
      input: repeated,
      message: `expected the top-level replicationFactor (${f.replicationFactor}) or nothing`,
    });
  }
}

/**
 * The cluster file (DESIGN.md §7; `cluster.example.json` is one). Unknown
 * keys are refused everywhere; every section but the first six keys is
 * optional and filled with defaults.
 */
export const clusterFileSchema = clusterFileShape
  .superRefine(checkCrossFields)
  .transform((f) => ({ ...f, settings: { ...f.settings, replicationFactor: f.replicationFactor } }));

export type ClusterFile = z.output<typeof clusterFileSchema>;
export type ClusterFileInput = z.input<typeof clusterFileSchema>;
export type CoordinatorEntry = z.output<typeof coordinatorEntrySchema>;
export type NodeEntry = z.output<typeof nodeEntrySchema>;
