/**
 * Which coordinators a client command talks to: `--coordinators a,b,c`, or
 * the coordinators of `--config FILE`, or, with neither, those of
 * cluster.example.json when the current directory has one (what
 * `npm start` runs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { joinAddress, parseAddress } from '../client/index.js';
import { loadClusterFile } from '../config/index.js';
import { usage } from './cli-error.js';

export const DEFAULT_CLUSTER_FILE = 'cluster.example.json';

export interface TargetFlags {
  readonly config?: string | undefined;
  readonly coordinators?: string | undefined;
  /** An API token; default: TORUA_TOKEN. */
  readonly token?: string | undefined;
}

/** Environment variable the commands that talk to a cluster read a token from (`--token` wins). */
export const TOKEN_ENV = 'TORUA_TOKEN';

export interface ClusterTarget {
  /** Where the addresses came from, for messages: the file, or `--coordinators`. */
  readonly source: string;
  /** In the order given; `id` when a file names it. */
  readonly coordinators: readonly { readonly id?: string; readonly address: string }[];
  /** `--token` or TORUA_TOKEN, for a cluster with auth. */
  readonly token?: string;
}

/** The token of `--token`, else TORUA_TOKEN; a value that cannot be a header is a usage error. */
export function tokenOf(command: string, flags: TargetFlags): { token?: string } {
  const token = flags.token ?? process.env[TOKEN_ENV];
  if (token === undefined || token === '') return {};
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw usage(`${command}: --token: expected 1 to 512 printable characters without spaces`);
  return { token };
}

export async function resolveTarget(command: string, flags: TargetFlags, cwd = process.cwd()): Promise<ClusterTarget> {
  if (flags.config !== undefined && flags.coordinators !== undefined) throw usage(`${command}: give --config FILE or --coordinators A,B,C, not both`);
  if (flags.coordinators !== undefined) {
    const texts = flags.coordinators.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (texts.length === 0) throw usage(`${command}: --coordinators: expected host:port[,host:port…]`);
    const coordinators: { address: string }[] = [];
    for (const t of texts) {
      try {
        coordinators.push({ address: parseAddress(t).address });
      } catch {
        throw usage(`${command}: --coordinators: expected host:port, got ${JSON.stringify(t)}`);
      }
    }
    return { source: '--coordinators', coordinators, ...tokenOf(command, flags) };
  }
  let file = flags.config;
  if (file === undefined) {
    if (!fs.existsSync(path.join(cwd, DEFAULT_CLUSTER_FILE))) {
      throw usage(`${command}: which cluster? Give --config FILE or --coordinators HOST:PORT,… (there is no ${DEFAULT_CLUSTER_FILE} here)`);
    }
    file = DEFAULT_CLUSTER_FILE;
  }
  let cluster;
  try {
    cluster = await loadClusterFile(path.resolve(cwd, file));
  } catch (e) {
    throw usage(`${command}: ${(e as Error).message.replaceAll(path.resolve(cwd, file), file)}`);
  }
  return { source: file, coordinators: cluster.coordinators.map((c) => ({ id: c.id, address: joinAddress(c.host, c.apiPort) })), ...tokenOf(command, flags) };
}
