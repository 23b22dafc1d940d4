/**
 * `torua config get [--json]` and `torua config set KEY=VALUE… [--wait]`:
 * the cluster-wide settings, which version each node runs, and a change of
 * them (a compare-and-set on the version read just before, so a change made
 * meanwhile is refused, never overwritten). `--wait` answers once every
 * serving node runs the new version, exit 1 naming the others otherwise.
 */
import { runAdminCall } from './admin-call.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';

export interface ConfigFlags extends TargetFlags {
  readonly json?: boolean | undefined;
  readonly wait?: boolean | undefined;
  readonly reason?: string | undefined;
}

const usage = 'usage: torua config get [--json] | torua config set KEY=VALUE… [--wait] [--reason R]   (e.g. health.leaseMs=2000)';

const KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

/**
 * `health.leaseMs=2000 maxValueBytes=1048576` as a nested patch. A value is
 * read as JSON when it is JSON (numbers, true, false), as a string otherwise;
 * the cluster validates the whole and names a field it refuses.
 */
export function parseAssignments(args: readonly string[]): { ok: true; patch: Record<string, unknown> } | { ok: false; error: string } {
  if (args.length === 0) return { ok: false, error: 'at least one KEY=VALUE is required' };
  const patch: Record<string, unknown> = {};
  for (const arg of args) {
    const at = arg.indexOf('=');
    const key = at < 0 ? arg : arg.slice(0, at);
    if (at < 0 || !KEY.test(key)) return { ok: false, error: `expected KEY=VALUE with a dotted key (health.leaseMs=2000), got ${JSON.stringify(arg)}` };
    const raw = arg.slice(at + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    const path = key.split('.');
    let into = patch;
    for (const part of path.slice(0, -1)) {
      const next = into[part];
      if (next !== undefined && (typeof next !== 'object' || next === null)) return { ok: false, error: `${key}: ${part} is given a value of its own too` };
      into = (into[part] ??= {}) as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (Object.hasOwn(into, last)) return { ok: false, error: `${key} is given twice` };
    into[last] = value;
  }
  return { ok: true, patch };
}

function nodesLine(nodes: Readonly<Record<string, number | null>>, version: number): string {
  const entries = Object.entries(nodes);
  if (entries.length === 0) return 'nodes: none';
  const behind = entries.filter(([, v]) => v !== version);
  const list = entries.map(([id, v]) => `${id}=${v ?? '-'}`).join(' ');
  return `nodes (version each runs): ${list}${behind.length === 0 ? '' : `  (${behind.length} not on ${version})`}`;
}

export function runConfig(sub: string | undefined, args: readonly string[], flags: ConfigFlags, io: CliIo): Promise<number> {
  if (sub === 'get') {
    if (args.length > 0) {
      io.err(`torua config get: takes no arguments\n${usage}\n`);
      return Promise.resolve(2);
    }
    return runAdminCall('config get', flags, io, async (client, context) => {
      const config = await client.admin.config.query(undefined, { context });
      const data = { version: config.version, settings: config.settings, nodes: config.nodes };
      return { data, text: `version ${config.version}\n${JSON.stringify(config.settings, null, 2)}\n${nodesLine(config.nodes, config.version)}` };
    });
  }
  if (sub !== 'set') {
    io.err(`torua config: ${sub === undefined ? 'missing subcommand (get, set)' : `unknown subcommand '${sub}'`}\n${usage}\n`);
    return Promise.resolve(2);
  }
  const parsed = parseAssignments(args);
  if (!parsed.ok) {
    io.err(`torua config set: ${parsed.error}\n${usage}\n`);
    return Promise.resolve(2);
  }
  return runAdminCall('config set', flags, io, async (client, context) => {
    const { version: expectedVersion } = await client.admin.config.query(undefined, { context });
    const answer = await client.admin.updateConfig.mutate(
      {
        expectedVersion,
        settings: parsed.patch,
        ...(flags.reason === undefined ? {} : { reason: flags.reason }),
        ...(flags.wait === true ? { wait: true } : {}),
      },
      { context },
    );
    if (answer.version === expectedVersion) return { data: answer, text: `unchanged: the settings already are so (version ${answer.version})` };
    const head = `settings version ${answer.version} committed`;
    if (flags.wait === true) return { data: answer, text: `${head}; every serving node runs it\n${nodesLine(answer.nodes, answer.version)}` };
    return { data: answer, text: `${head}; nodes take it with their next lease renewal (--wait waits for it)` };
  });
}
