/**
 * The composition root of a coordinator replica process: builds every part
 * in dependency order and closes them in reverse (API, leader duties,
 * replica, transport, log store), also on a fatal store error.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { createCoordinatorApiServer, createHttpNodeLink, fetchReplicaStatus, type CoordinatorApiServer } from '../api/coordinator/index.js';
import { createHttpReplicaLink } from '../api/coordinator/node-link.js';
import { Authenticator } from '../api/auth/index.js';
import type { CoordinatorView } from '../config/index.js';
import { eventInfo } from '../api/coordinator/wire/event.js';
import { NodeControl } from '../coordinator/node-control.js';
import { WebhookNotifier } from '../coordinator/notifications/index.js';
import { CoordinatorReplica } from '../coordinator/replica.js';
import { initialState } from '../coordinator/routing/index.js';
import { PACKAGE_VERSION } from './package-version.js';
import { setUpProcessSecurity, type SecurityChoice } from './process-security.js';
import { joinAddress } from '../client/addresses.js';
import { webOrigin } from '../tls/web.js';
import { createLogger, createMetrics, type Logger } from '../observability/index.js';
import { SeededRng } from '../raft/index.js';
import { DiskFaults, FAULT_CRASH_EXIT_CODE, FAULTS_ENV, LevelRaftStorage, parseFaultSwitch } from '../storage/index.js';
import { PeerTransport } from '../transport/index.js';

export const COORDINATOR_VERSION = PACKAGE_VERSION;

export interface RunningCoordinator {
  readonly replica: CoordinatorReplica;
  readonly logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  /**
   * The replica joins a running cluster instead of bootstrapping it: no initial voters (the file's
   * coordinators are the bootstrap voters, and this one must not count itself among them: a wiped
   * or new replica that did would vote and count toward commits with an empty log).
   */
  readonly join?: boolean;
  /** Certificates or plaintext (checked by the command); default: the file's `tls`, plaintext without. */
  readonly security?: SecurityChoice;
  /** The cluster's internal token (from the file's `auth.internalTokenFile`); required when the file has `auth`. */
  readonly internalToken?: string;
}

export async function startCoordinatorProcess(view: CoordinatorView, options: StartOptions = {}): Promise<RunningCoordinator> {
  const { self, file } = view;
  const logger = createLogger({ level: view.logLevel, bindings: { replica: self.id } });
  const metrics = createMetrics({ defaultLabels: { replica: self.id } });
  const security = setUpProcessSecurity(options.security ?? { tls: view.tls, insecure: false }, file.clusterId, logger, metrics);
  const faults = diskFaultsFromEnv(logger);
  const storage = await LevelRaftStorage.open(view.dataDir, {}, faults ? { syncedWrite: faults.syncedWrite } : {});
  let replica: CoordinatorReplica | undefined;
  let nodeControl: NodeControl | undefined;
  let api: CoordinatorApiServer | undefined;
  let notifier: WebhookNotifier | undefined;
  let closing: Promise<void> | undefined;

  const transport = new PeerTransport(
    { id: self.id, clusterId: file.clusterId, host: self.host, peerPort: self.peerPort, peers: new Map() },
    {
      onMessage: (m) => replica?.receive(m),
      onPeerDisconnected: (peer) => replica?.peerDisconnected(peer),
      log: (level, msg, fields) => logger[level](msg, fields),
      tls: security.source,
    },
  );

  // Sockets bind to an address, not a name: a replica configured by hostname dials from wherever the OS picks.
  const localAddress = isIP(self.host) ? self.host : undefined;
  const authenticator = authenticatorFor(view, options.internalToken);
  // What this replica shows the others when it asks them to confirm a failure.
  const authorization = options.internalToken === undefined ? undefined : `Bearer ${options.internalToken}`;
  const members = file.coordinators.map((c) => ({ id: c.id, host: c.host, apiPort: c.apiPort, peerPort: c.peerPort }));
  replica = await CoordinatorReplica.start(
    {
      id: self.id,
      clusterId: file.clusterId,
      version: COORDINATOR_VERSION,
      raft: file.raft,
      initialVoters: options.join ? [] : members.map((m) => m.id),
      initialTable: initialState({ clusterId: file.clusterId, shards: file.shards, settings: file.settings, members }),
    },
    {
      storage,
      outbox: transport,
      logger,
      metrics,
      rng: new SeededRng(randomInt(2 ** 31)),
      fetchStatus: (address, timeoutMs) => fetchReplicaStatus(address, timeoutMs, { localAddress }),
      onFatal: () => {
        void close().finally(() => process.exit(1));
      },
      ...(faults ? { afterPersist: faults.afterPersist } : {}),
    },
  );
  if (faults) replica.onRoleChange((c) => faults.setLeading(c.role === 'leader'));
  try {
    await transport.start();
    // The placement driver, the health monitor and the lease table follow the replica's leadership from here on.
    nodeControl = new NodeControl(
      { placement: true, health: {} },
      { service: replica, nodeLink: createHttpNodeLink({ localAddress, authorization }), replicaLink: createHttpReplicaLink({ localAddress, authorization }), logger, metrics },
    );
    api = createCoordinatorApiServer({
      service: replica,
      host: self.host,
      port: self.apiPort,
      logger,
      metrics,
      nodeControl,
      transportStats: () => transport.stats(),
      ...(authenticator === undefined ? {} : { authenticator }),
      ...(authorization === undefined ? {} : { nodeAuthorization: authorization }),
    });
    // Leader-only, like the placement driver: it follows the replica's leadership by itself.
    notifier = webhookNotifier(view, replica, logger, localAddress);
    await api.start();
  } catch (e) {
    // A port already taken: stop what was started, so the process exits instead of hanging.
    api = undefined;
    await close();
    throw e;
  }
  logger.info('coordinator ready', { api: webOrigin(joinAddress(self.host, self.apiPort)), peer: `${self.host}:${self.peerPort}` });

  async function close(): Promise<void> {
    closing ??= (async () => {
      await api?.close().catch((e: unknown) => logger.warn('closing the API failed', { error: String(e) }));
      await notifier?.close();
      await nodeControl?.close();
      await replica?.close();
      await transport.close();
      await storage.close();
      security.dispose();
      logger.info('coordinator stopped');
    })();
    return closing;
  }

  return { replica, logger, close };
}

/** The API's token checks, when the file has `auth` (which needs the internal token). */
function authenticatorFor(view: CoordinatorView, internalToken: string | undefined): Authenticator | undefined {
  const auth = view.file.auth;
  if (auth === undefined) return undefined;
  if (internalToken === undefined) throw new Error('the cluster file has auth, but no internal token was loaded');
  return new Authenticator({ tokens: auth.tokens, internalToken, openMetrics: auth.openMetrics });
}

/** TORUA_FAULTS (src/storage/faults): undefined when unset; a bad value throws, naming the field, so the replica does not start. */
function diskFaultsFromEnv(logger: Logger): DiskFaults | undefined {
  const settings = parseFaultSwitch(process.env[FAULTS_ENV], () => randomInt(2 ** 31));
  if (settings === undefined) return undefined;
  const faults = new DiskFaults(settings, { logger, crash: () => process.exit(FAULT_CRASH_EXIT_CODE) });
  logger.warn(faults.warning(), { faults: settings });
  return faults;
}

/** The webhook of the file's `notifications` section; undefined when it names no URL. */
function webhookNotifier(view: CoordinatorView, replica: CoordinatorReplica, logger: Logger, localAddress: string | undefined): WebhookNotifier | undefined {
  const { webhookUrl, timeoutMs, maxAttempts } = view.file.notifications;
  if (webhookUrl === undefined) return undefined;
  return new WebhookNotifier({ webhookUrl, timeoutMs, maxAttempts, clusterId: view.file.clusterId, localAddress }, { service: replica, logger, describe: eventInfo });
}
