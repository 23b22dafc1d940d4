import path from 'node:path';
import { ConfigError, ConfigErrorCode } from '../errors/index.js';
import type { LogLevel } from '../observability/log-level.js';
import { logLevelSchema, type ClusterFile, type CoordinatorEntry, type NodeEntry } from './cluster-file.js';
import { formatZodIssues } from '../common/zod-issues.js';

/** Command-line flags that win over the file (`--data-dir`, `--log-level`), as typed. */
export interface ProcessOverrides {
  dataDir?: string | undefined;
  logLevel?: string | undefined;
}

/** Where a process finds the cluster CA and its own certificate and key. */
export interface TlsFilePaths {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

interface ProcessView {
  readonly file: ClusterFile;
  /** From the file's `tls` (its `dir` taken relative to the file); undefined without one. */
  readonly tls: TlsFilePaths | undefined;
  /** `<dataDir>/<id>`, absolute; a relative dataDir is taken from the current directory, as on any command line. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
}

export interface CoordinatorView extends ProcessView {
  readonly self: CoordinatorEntry;
  /** The other replicas of the file, in file order. */
  readonly peers: readonly CoordinatorEntry[];
}

export interface NodeView extends ProcessView {
  readonly self: NodeEntry;
}

function invalidOverride(source: string, flag: string, issues: string[]): never {
  const lines = issues.map((line) => `${flag}: ${line}`);
  throw new ConfigError({ code: ConfigErrorCode.Invalid, file: source, issues: lines }, lines.join('\n'));
}

function common(file: ClusterFile, id: string, overrides: ProcessOverrides, source: string) {
  let logLevel: LogLevel = file.logLevel;
  if (overrides.logLevel !== undefined) {
    const r = logLevelSchema.safeParse(overrides.logLevel, { reportInput: true });
    if (!r.success) invalidOverride(source, '--log-level', formatZodIssues(r.error.issues));
    logLevel = r.data;
  }
  const base = overrides.dataDir ?? file.dataDir;
  if (base.trim() === '') invalidOverride(source, '--data-dir', ['expected a directory path, got ""']);
  return { file, logLevel, dataDir: path.resolve(base, id), tls: tlsPaths(file, id, source) };
}

/** `<dir>/ca.crt`, `<dir>/<id>.crt`, `<dir>/<id>.key`, with `dir` relative to the file's own directory. */
export function tlsPaths(file: ClusterFile, id: string, source: string): TlsFilePaths | undefined {
  if (file.tls === undefined) return undefined;
  const dir = path.resolve(path.dirname(source), file.tls.dir);
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, `${id}.crt`), key: path.join(dir, `${id}.key`) };
}

function unknownId(source: string, id: string, role: 'coordinator' | 'node', knownIds: string[], hint: string): never {
  const known = knownIds.length > 0 ? `the ${role}s are ${knownIds.join(', ')}` : `the file lists no ${role}s`;
  throw new ConfigError({ code: ConfigErrorCode.UnknownId, file: source, id, role, knownIds }, `${source}: no ${role} "${id}" (${known})${hint}`);
}

/** The view of coordinator replica `id`: its entry, its peers, its data directory and log level. */
export function resolveCoordinator(file: ClusterFile, id: string, overrides: ProcessOverrides = {}, source = 'cluster file'): CoordinatorView {
  const self = file.coordinators.find((c) => c.id === id);
  if (self === undefined) {
    const isNode = file.nodes.some((n) => n.id === id);
    const ids = file.coordinators.map((c) => c.id);
    unknownId(source, id, 'coordinator', ids, isNode ? `; "${id}" is a data node: start it with \`torua node\`` : '');
  }
  return { ...common(file, id, overrides, source), self, peers: file.coordinators.filter((c) => c.id !== id) };
}

/** The view of data node `id` of the file. (A node not in the file is started from flags, not from here.) */
export function resolveNode(file: ClusterFile, id: string, overrides: ProcessOverrides = {}, source = 'cluster file'): NodeView {
  const self = file.nodes.find((n) => n.id === id);
  if (self === undefined) {
    const isCoordinator = file.coordinators.some((c) => c.id === id);
    const hint = isCoordinator
      ? `; "${id}" is a coordinator: start it with \`torua coordinator\``
      : '; a node not in the file joins with --host, --port and --coordinators';
    unknownId(source, id, 'node', file.nodes.map((n) => n.id), hint);
  }
  return { ...common(file, id, overrides, source), self };
}
