/**
 * `torua kv get KEY`, `torua kv put KEY VALUE` (VALUE `-`: stdin) and
 * `torua kv delete KEY` (alias `del`), through the smart client: the
 * routing table from the coordinators of `--config FILE` or
 * `--coordinators A,B,C`, each request straight to the key's primary.
 * `get` prints the value as it is, then a newline; a missing key is exit 1
 * with `not found: KEY` on stderr. Bad usage (and a bad key) is exit 2.
 * `--json` prints the one documented document instead (json-output.ts):
 * `data` is `{key}`, and for `get` also the value as `value_base64` and as
 * `value` (its UTF-8 text, null when it is not valid UTF-8).
 */
import { keyProblem } from '../common/data-key.js';
import { createKvClient, describeClientError, KvError, type KvClient } from '../client/index.js';
import { CliError, usage } from './cli-error.js';
import { resolveTarget, type TargetFlags } from './cluster-target.js';
import { jsonFailure, jsonSuccess } from './json-output.js';
import { exitCodeOf } from './exit-codes.js';
import type { CliIo } from './run.js';

export interface KvIo extends CliIo {
  /** Raw bytes to stdout; without it a value goes through `out` as UTF-8 text. */
  readonly outBytes?: ((bytes: Uint8Array) => void) | undefined;
  /** All of stdin, at most `maxBytes` (VALUE `-`); default: process.stdin. */
  readonly readStdin?: ((maxBytes: number) => Promise<Uint8Array>) | undefined;
}

export type KvFlags = TargetFlags & Readonly<Record<string, unknown>>;

export const KV_USAGE = `Usage: torua kv get KEY
       torua kv put KEY VALUE      (VALUE - reads stdin; a VALUE starting with - goes after --)
       torua kv delete KEY         (alias: del)
Options: --config FILE | --coordinators A,B,C (default: ./cluster.example.json)
`;

/** As much as a cluster can be set to accept (settings.maxValueBytes at its maximum). */
const MAX_STDIN_BYTES = 1024 * 1024 * 1024;
const ALLOWED_FLAGS: ReadonlySet<string> = new Set(['config', 'coordinators', 'help', 'json', 'token', 'ca', 'cert', 'key']);

interface KeyOp {
  readonly kind: 'get' | 'delete';
  readonly key: string;
}
interface PutOp {
  readonly kind: 'put';
  readonly key: string;
  readonly value: string;
}
type Op = KeyOp | PutOp;

/** The subcommands, `del` being `delete`. */
export function kvSubcommand(sub: string | undefined): 'get' | 'put' | 'delete' | undefined {
  if (sub === 'del') return 'delete';
  return sub === 'get' || sub === 'put' || sub === 'delete' ? sub : undefined;
}

function parseOp(sub: string, args: readonly string[], flags: KvFlags): Op {
  const kind = kvSubcommand(sub);
  if (kind === undefined) throw usage(`kv: unknown subcommand '${sub}' (get, put, delete)`);
  for (const [flag, v] of Object.entries(flags)) {
    if (v !== undefined && !ALLOWED_FLAGS.has(flag)) throw usage(`kv ${sub}: --${flag} does not apply here`);
  }
  const wanted = kind === 'put' ? 2 : 1;
  if (args.length !== wanted) {
    const what = kind === 'put' ? 'KEY and VALUE' : 'KEY';
    throw usage(`kv ${sub}: expected ${what}, got ${args.length === 0 ? 'nothing' : `${args.length} argument${args.length === 1 ? '' : 's'}`}`);
  }
  const key = args[0] as string;
  const problem = keyProblem(key);
  if (problem !== undefined) throw usage(`kv ${sub}: ${problem}`);
  return kind === 'put' ? { kind, key, value: args[1] as string } : { kind, key };
}

async function readProcessStdin(maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > maxBytes) throw new CliError(`kv put: stdin: more than ${maxBytes} bytes`, 1);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The value's text when it is valid UTF-8, else null (the bytes are in value_base64 either way). */
function utf8OrNull(value: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return null;
  }
}

async function execute(op: Op, kv: KvClient, io: KvIo, json: boolean): Promise<number> {
  const command = `kv ${op.kind}`;
  if (op.kind === 'put') {
    await put(op, kv, io);
    if (json) io.out(jsonSuccess(command, { key: op.key }));
    return 0;
  }
  if (op.kind === 'delete') {
    await kv.delete(op.key);
    if (json) io.out(jsonSuccess(command, { key: op.key }));
    return 0;
  }
  const value = await kv.get(op.key);
  if (value === null) {
    if (json) io.out(`${JSON.stringify({ ok: false, command, exit_code: 1, error: { code: 'NOT_FOUND', message: `not found: ${op.key}` } })}\n`);
    else io.err(`not found: ${op.key}\n`);
    return 1;
  }
  if (json) {
    io.out(jsonSuccess(command, { key: op.key, value: utf8OrNull(value), value_base64: Buffer.from(value).toString('base64') }));
    return 0;
  }
  if (io.outBytes !== undefined) io.outBytes(value);
  else io.out(Buffer.from(value).toString('utf8'));
  io.out('\n');
  return 0;
}

async function put(op: PutOp, kv: KvClient, io: KvIo): Promise<number> {
  const value = op.value === '-' ? await (io.readStdin ?? readProcessStdin)(MAX_STDIN_BYTES) : op.value;
  await kv.put(op.key, value);
  return 0;
}

/** `sub` is one of `kvSubcommand`'s (run.ts answers anything else with the general usage). */
export async function runKv(sub: string, args: readonly string[], flags: KvFlags, io: KvIo): Promise<number> {
  const command = `kv ${sub}`;
  let kv: KvClient | undefined;
  try {
    const op = parseOp(sub, args, flags);
    const target = await resolveTarget(command, flags);
    kv = createKvClient({ coordinators: target.coordinators.map((c) => c.address), ...(target.token === undefined ? {} : { token: target.token }) });
    return await execute(op, kv, io, flags['json'] === true);
  } catch (e) {
    if (e instanceof CliError) {
      if (flags['json'] === true) io.out(jsonFailure(command, e.exitCode, e));
      else io.err(`torua ${e.message}\n${e.exitCode === 2 ? `\n${KV_USAGE}` : ''}`);
      return e.exitCode;
    }
    if (e instanceof KvError) {
      const code = exitCodeOf(e);
      if (flags['json'] === true) io.out(jsonFailure(command, code, e));
      else io.err(`torua ${command}: ${describeClientError(e)}\n`);
      return code;
    }
    throw e;
  } finally {
    kv?.close();
  }
}
