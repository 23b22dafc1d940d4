/**
 * The composition root of a data node process: logger, metrics, the links
 * to coordinators and peers, the engine and its HTTP server. The server
 * starts first, so `/health` answers while the node registers; the engine
 * then registers and keeps its lease. Stopping closes them in reverse.
 */
import { isIP } from 'node:net';
import { startDataNodeServer, trpcBodyLimitFor, type DataNodeServer } from '../api/datanode/index.js';
import { Authenticator } from '../api/auth/index.js';
import { createClusterClient } from '../client/index.js';
import { closeNodeClients } from '../client/node-client.js';
import type { CoordinatorLink } from '../datanode/contract.js';
import { DataNode } from '../datanode/index.js';
import { createLogger, createMetrics, type Logger } from '../observability/index.js';
import type { NodeProcessConfig } from './node-flags.js';
import { LeaseRenewer } from './lease-renewer.js';
import { PACKAGE_VERSION } from './package-version.js';
import { setUpProcessSecurity } from './process-security.js';
import { webOrigin } from '../tls/web.js';
import { createCoordinatorLink, createPeerLink } from './node-links.js';

/** One release, one version: nodes and coordinators are built together (package-version.ts). */
export const NODE_VERSION = PACKAGE_VERSION;

export interface RunningNode {
  readonly logger: Logger;
  /** `host:port` the server listens on. */
  readonly address: string;
  /** Resolves once the node is registered; rejects with start()'s error (CONFLICT: the id belongs to another data directory). */
  readonly registered: Promise<void>;
  /** Asks the cluster to move this node's shards away and waits (bounded) until none remain. */
  drain(timeoutMs: number): Promise<void>;
  /** Closes the server, then the engine. Idempotent. */
  stop(): Promise<void>;
}

/** Why the server could not listen, in an operator's words. */
function listenFailure(err: unknown, address: string): Error {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new Error(`cannot listen on ${address}: the port is already in use`, { cause: err });
  if (code === 'EADDRNOTAVAIL') return new Error(`cannot listen on ${address}: no interface of this machine has that address`, { cause: err });
  if (code === 'EACCES') return new Error(`cannot listen on ${address}: permission denied`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** A CoordinatorLink that also remembers the value limit each grant carries (the REST body limit follows it). */
function observed(link: CoordinatorLink, onLimit: (maxValueBytes: number) => void): CoordinatorLink {
  return {
    register: (req, signal) => link.register(req, signal),
    async renewLease(req, signal) {
      const grant = await link.renewLease(req, signal);
      onLimit(grant.maxValueBytes);
      return grant;
    },
    setInSync: (req, signal) => link.setInSync(req, signal),
    drain: (id, reason, signal) => link.drain(id, reason, signal),
  };
}

export async function startNodeProcess(config: NodeProcessConfig): Promise<RunningNode> {
  const { id, host, port } = config;
  const address = `${host}:${port}`;
  // The engine binds the node id to its own child; everything else logs through `logger`, which has it bound.
  const baseLogger = createLogger({ level: config.logLevel });
  const logger = baseLogger.child({ node: id });
  const metrics = createMetrics({ defaultLabels: { node: id } });
  const security = setUpProcessSecurity(config.security ?? { tls: undefined, insecure: false }, config.clusterId, logger, metrics);
  // Sockets bind to an address, not a name: a node configured by hostname dials from wherever the OS picks.
  const localAddress = isIP(host) === 0 ? undefined : host;
  let maxValueBytes = config.maxValueBytes;

  const token = config.internalToken === undefined ? {} : { token: config.internalToken };
  const client = createClusterClient({ coordinators: config.coordinators, ...(localAddress === undefined ? {} : { localAddress }), ...token });
  const renewer = new LeaseRenewer({ coordinators: config.coordinators, localAddress, logger, ...token });
  const coordinators = observed(createCoordinatorLink(client, { renewer }), (limit) => {
    if (limit !== maxValueBytes) logger.info('value limit from the cluster', { maxValueBytes: limit });
    maxValueBytes = limit;
  });
  const node = new DataNode(
    { id, address, dataDir: config.dataDir, capacity: config.capacity, version: NODE_VERSION, ...(config.labels === undefined ? {} : { labels: { ...config.labels } }) },
    { coordinators, peers: createPeerLink({ localAddress, token: config.internalToken }), logger: baseLogger },
  );

  let server: DataNodeServer;
  try {
    server = await startDataNodeServer(
      {
        host,
        port,
        maxTrpcBodyBytes: trpcBodyLimitFor(config.maxValueBytes),
        ...(config.internalToken === undefined
          ? {}
          : {
              internalToken: config.internalToken,
              // A node not in a file knows no API tokens: its data path takes only the internal token (coordinators relaying).
              authenticator: new Authenticator({ tokens: config.auth?.tokens ?? [], internalToken: config.internalToken, openMetrics: config.auth?.openMetrics ?? false }),
            }),
      },
      { service: node, logger, metrics, maxValueBytes: () => maxValueBytes },
    );
  } catch (e) {
    security.dispose();
    throw listenFailure(e, address);
  }
  logger.info(`node ${id} listening on ${webOrigin(server.address)}`, { dataDir: config.dataDir, coordinators: config.coordinators.join(',') });

  let leaseValid = false;
  const unsubscribe = node.onChange(() => {
    const { lease } = node.health();
    if (lease.valid === leaseValid) return;
    leaseValid = lease.valid;
    if (lease.valid) logger.info(`node ${id} holds a lease`, { leader: lease.leader, term: lease.term, remainingMs: lease.remainingMs });
    else logger.warn(`node ${id} lost its lease: it refuses writes until a coordinator leader renews it`);
  });

  logger.info(`node ${id} registering`, { coordinators: config.coordinators.join(',') });
  const registered = node.start().then(() => logger.info(`node ${id} registered`));
  // The caller handles the rejection; this keeps it from counting as unhandled meanwhile.
  registered.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  return {
    logger,
    address: server.address,
    registered,
    drain: (timeoutMs) => node.drain(timeoutMs),
    stop() {
      stopping ??= (async () => {
        unsubscribe();
        await server.close().catch((e: unknown) => logger.warn('closing the API failed', { error: String(e) }));
        await node.stop();
        closeNodeClients();
        security.dispose();
        logger.info(`node ${id} stopped`);
      })();
      return stopping;
    },
  };
}
