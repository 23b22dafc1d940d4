/**
 * What `torua node` runs, from its flags: the node of a cluster file
 * (`--config F --id n1`), or a node that is not in the file
 * (`--id n4 --host H --port P --coordinators A,B --data-dir D`). Every bad or
 * missing flag is a usage error (exit 2) that names the flag.
 */
import path from 'node:path';
import type { z } from 'zod';
import { DEFAULT_NODE_CAPACITY } from '../api/coordinator/routers/nodes.js';
import { joinAddress } from '../client/index.js';
import { checkedInternalToken, INTERNAL_TOKEN_ENV, loadInternalToken, type AuthSettings } from '../config/index.js';
import { DEFAULT_CLUSTER_SETTINGS, formatZodIssues, hostSchema, idSchema, intInRange, loadClusterFile, logLevelSchema, portSchema, resolveNode } from '../config/index.js';
import { DEFAULT_LOG_LEVEL, type LogLevel } from '../observability/index.js';
import { usage } from './cli-error.js';
import { resolveTarget } from './cluster-target.js';
import { checkPlaintextAllowed, type SecurityChoice } from './process-security.js';
import { tlsFlags } from './tls-flags.js';

export interface NodeFlags {
  readonly config?: string | undefined;
  readonly id?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly coordinators?: string | undefined;
  readonly capacity?: string | undefined;
  readonly 'data-dir'?: string | undefined;
  readonly 'log-level'?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/** Everything the node process needs to start. */
export interface NodeProcessConfig {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly capacity: number;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** The node's own directory, `<dataDir>/<id>`, absolute. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Coordinator API addresses, `host:port`. */
  readonly coordinators: readonly string[];
  /** The value limit until the first lease grant says otherwise (the file's setting, or the default). */
  readonly maxValueBytes: number;
  /** Certificates (the file's `tls`, or --ca/--cert/--key) or plaintext; default plaintext. */
  readonly security?: SecurityChoice | undefined;
  /** The file's cluster id; undefined for a node not in a file (its certificate names it). */
  readonly clusterId?: string | undefined;
  /** The cluster's internal token (its file's `auth`, or TORUA_INTERNAL_TOKEN for a node not in a file): sent to the coordinators. */
  readonly internalToken?: string | undefined;
  /** The file's `auth` (its tokens check the node's REST data path); undefined without auth, or for a node not in a file. */
  readonly auth?: AuthSettings | undefined;
}

const COMMAND = 'torua node';
/** Flags that describe a node not in the file; with --config the file says all of it. */
const FILE_SAYS = ['host', 'port', 'coordinators', 'capacity'] as const;

const capacitySchema = intInRange(1, 65_536);

/** A number-valued flag stays a string when it is not digits, so the schema says what it got. */
const numeric = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);

function flagValue<T>(schema: z.ZodType<T>, flag: string, raw: unknown): T {
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw usage(`${COMMAND}: --${flag}: ${formatZodIssues(parsed.error.issues).join('; ')}`);
  return parsed.data;
}

function required(flags: NodeFlags, flag: Exclude<keyof NodeFlags, 'insecure'>, why: string): string {
  const value = flags[flag];
  if (value === undefined || value.trim() === '') throw usage(`${COMMAND}: --${flag} is required ${why}`);
  return value;
}

async function fromFile(file: string, flags: NodeFlags): Promise<NodeProcessConfig> {
  const id = required(flags, 'id', '(which node of the file to run)');
  for (const flag of FILE_SAYS) {
    if (flags[flag] !== undefined) throw usage(`${COMMAND}: --${flag}: the file gives it with --config; leave it out (or leave out --config to run a node that is not in the file)`);
  }
  let view;
  let internalToken: string | undefined;
  let auth: AuthSettings | undefined;
  try {
    const cluster = await loadClusterFile(file);
    auth = cluster.auth;
    view = resolveNode(cluster, id, { dataDir: flags['data-dir'], logLevel: flags['log-level'] }, file);
    internalToken = cluster.auth === undefined ? undefined : await loadInternalToken(file, cluster.auth);
  } catch (e) {
    throw usage((e as Error).message);
  }
  const { self } = view;
  return {
    id: self.id,
    host: self.host,
    port: self.port,
    capacity: self.capacity,
    labels: self.labels,
    dataDir: view.dataDir,
    logLevel: view.logLevel,
    coordinators: view.file.coordinators.map((c) => joinAddress(c.host, c.apiPort)),
    maxValueBytes: view.file.settings.maxValueBytes,
    security: secured(self.host, flags, view.tls),
    clusterId: view.file.clusterId,
    internalToken,
    auth,
  };
}

function secured(host: string, flags: NodeFlags, fromFile: SecurityChoice['tls']): SecurityChoice {
  const security = { tls: tlsFlags(COMMAND, flags) ?? fromFile, insecure: flags.insecure === true };
  checkPlaintextAllowed(COMMAND, [host], security);
  return security;
}

async function fromFlags(flags: NodeFlags): Promise<NodeProcessConfig> {
  const why = 'for a node not in a cluster file (or give --config FILE)';
  const id = flagValue(idSchema, 'id', required(flags, 'id', why));
  const host = flagValue(hostSchema, 'host', required(flags, 'host', why));
  const port = flagValue(portSchema, 'port', numeric(required(flags, 'port', why)));
  const target = await resolveTarget(COMMAND, { coordinators: required(flags, 'coordinators', why) });
  const dataDir = required(flags, 'data-dir', `${why}: the node keeps its data in DIR/${id}`);
  const capacity = flags.capacity === undefined ? DEFAULT_NODE_CAPACITY : flagValue(capacitySchema, 'capacity', numeric(flags.capacity));
  const logLevel = flags['log-level'] === undefined ? DEFAULT_LOG_LEVEL : flagValue(logLevelSchema, 'log-level', flags['log-level']);
  return {
    id,
    host,
    port,
    capacity,
    dataDir: path.resolve(dataDir, id),
    logLevel,
    coordinators: target.coordinators.map((c) => c.address),
    maxValueBytes: DEFAULT_CLUSTER_SETTINGS.maxValueBytes,
    security: secured(host, flags, undefined),
    internalToken: internalTokenFromEnv(),
  };
}

/** The node to run, or a CliError (exit 2) naming the flag that is wrong or missing. */
export function resolveNodeFlags(flags: NodeFlags): Promise<NodeProcessConfig> {
  return flags.config === undefined ? fromFlags(flags) : fromFile(flags.config, flags);
}

function internalTokenFromEnv(): string | undefined {
  const text = process.env[INTERNAL_TOKEN_ENV];
  if (text === undefined || text === '') return undefined;
  try {
    return checkedInternalToken(text, INTERNAL_TOKEN_ENV);
  } catch (e) {
    throw usage(`${COMMAND}: ${(e as Error).message}`);
  }
}
