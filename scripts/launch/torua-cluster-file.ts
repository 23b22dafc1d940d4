/**
 * Torua processes for the launcher: the compiled CLI every harness starts
 * (`npm run build` first), the layout of coordinators and data nodes on
 * loopback aliases with free ports, and the cluster file they read. The
 * harnesses differ in topology and options; they share how a child is
 * started and how the file is written.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildSpec } from './child.js';
import { COORDINATOR_ALIAS_BASE, freePort, loopbackAlias } from './ports.js';
import type { ClusterFileInput } from '../../src/config/cluster-file.js';

// dist/scripts/launch/ or scripts/launch/: the repository is two levels up from scripts/.
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, path.basename(path.resolve(HERE, '../..')) === 'dist' ? '../../..' : '../..');
export const MAIN_JS = path.join(REPO_ROOT, 'dist/src/cli/main.js');

/** Throws when the compiled CLI is missing. */
export function requireBuilt(): void {
  if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
}

/**
 * A child running `torua ARGS…` from the compiled code (or `main`, another
 * copy of the build), with `nodeArgs` for node itself (e.g. --cpu-prof)
 * and no inherited NODE_OPTIONS (a test runner's would load into it).
 */
export function toruaChild(name: string, args: readonly string[], opts: { main?: string; nodeArgs?: readonly string[]; env?: Readonly<Record<string, string>>; cwd?: string } = {}): Omit<ChildSpec, 'logFile'> {
  return {
    name,
    command: process.execPath,
    args: [...(opts.nodeArgs ?? []), opts.main ?? MAIN_JS, ...args],
    env: { NODE_OPTIONS: '', ...opts.env },
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  };
}

export interface CoordinatorSpec {
  readonly id: string;
  readonly host: string;
  readonly apiPort: number;
  readonly peerPort: number;
}

export interface NodeSpec {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly capacity: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** c1…cN, each on its own alias (127.0.0.11, .12, … unless `hostOf` says otherwise) with free API and peer ports. */
export async function layoutCoordinators(count: number, hostOf: (i: number) => string = (i) => loopbackAlias(COORDINATOR_ALIAS_BASE + i)): Promise<CoordinatorSpec[]> {
  const out: CoordinatorSpec[] = [];
  for (let i = 0; i < count; i++) {
    const host = hostOf(i);
    out.push({ id: `c${i + 1}`, host, apiPort: await freePort(host), peerPort: await freePort(host) });
  }
  return out;
}

/** n1…nN on `hostOf(i)` with a free port each. */
export async function layoutNodes(
  count: number,
  hostOf: (i: number) => string,
  opts: { capacity?: number; labels?: (i: number) => Readonly<Record<string, string>> | undefined } = {},
): Promise<NodeSpec[]> {
  const out: NodeSpec[] = [];
  for (let i = 0; i < count; i++) {
    const host = hostOf(i);
    const labels = opts.labels?.(i);
    out.push({ id: `n${i + 1}`, host, port: await freePort(host), capacity: opts.capacity ?? 16, ...(labels === undefined ? {} : { labels }) });
  }
  return out;
}

/** The cluster file as the harnesses write it: the config's own input type (src/config validates it when a process starts). */
export type ClusterFile = ClusterFileInput;

export async function writeClusterFile(file: string, content: ClusterFile): Promise<void> {
  await fsp.writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
}
