/**
 * Every `torua` command, in the one place that registers them: the words
 * that select it, its usage lines, the flags it takes (for completion) and
 * the function that runs it. run.ts dispatches from this list, the help and
 * the shell completion are generated from it. A new command is a file of its
 * own plus one entry here. Each command's module is loaded only when it
 * runs: a `torua status` or `torua kv get` starts without the coordinator,
 * the data node and the other commands (half a second of loading each time).
 */
import type { ParsedFlags } from './flags.js';
import type { CliIo } from './run.js';
import { usage } from './cli-error.js';
import { PACKAGE_VERSION } from './package-version.js';

export interface CommandArgs {
  readonly flags: ParsedFlags;
  /** The positionals after the command's words (`torua node drain n1` → `['n1']`). */
  readonly rest: readonly string[];
  readonly io: CliIo;
}

export interface CommandSpec {
  readonly words: readonly string[];
  /** The usage lines: the first is the synopsis, the others its description (in the help, next to it). */
  readonly usage: readonly [synopsis: string, ...description: string[]];
  /** Long flags it reads, for completion (every command also takes --help). */
  readonly flags: readonly string[];
  /** Values of its first positional, for completion. */
  readonly values?: readonly string[];
  readonly run: (args: CommandArgs) => number | Promise<number>;
}

const TARGET = ['config', 'coordinators', 'token', 'ca', 'cert', 'key'] as const;

export const COMMANDS: readonly CommandSpec[] = [
  { words: ['certs', 'create'], usage: ['certs create --config FILE --out DIR', 'make the CA and a certificate per coordinator,', 'node and the CLI (openssl) for the file\'s "tls"'], flags: ['config', 'out'], run: async ({ flags, io }) => (await import('./certs-command.js')).runCertsCreate(flags, io) },
  {
    words: ['coordinator'],
    usage: ['coordinator --config FILE --id ID', 'run one coordinator replica', '[--join]: a replica that is not a voter of the', "file's cluster yet: it waits to be added"],
    flags: ['config', 'id', 'join', 'data-dir', 'log-level', 'insecure', 'ca', 'cert', 'key'],
    run: async ({ flags, io }) => (await import('./coordinator-command.js')).runCoordinator(flags, io),
  },
  {
    words: ['node', 'drain'],
    usage: ['node drain ID [--wait] [--timeout S]', "move a node's shard copies away, then it is", 'left; --wait follows it with a progress bar'],
    flags: [...TARGET, 'json', 'wait', 'timeout'],
    run: async ({ flags, rest, io }) => (await import('./node-admin-command.js')).runNodeDrain(rest[0], flags, io),
  },
  {
    words: ['node', 'remove'],
    usage: ['node remove ID', 'take a node out now (its primaries are handed', 'to in-sync replicas, its copies re-created)'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, rest, io }) => (await import('./node-admin-command.js')).runNodeRemove(rest[0], flags, io),
  },
  {
    words: ['node', 'maintenance'],
    usage: ['node maintenance on|off ID… [--ttl 30m] [--reason R] [--wait]', 'put nodes in maintenance (their copies move away,', 'they are never declared failed) or end it'],
    flags: [...TARGET, 'json', 'ttl', 'reason', 'wait'],
    values: ['on', 'off'],
    run: async ({ flags, rest, io }) => (await import('./maintenance-command.js')).runMaintenance(rest, flags, io),
  },
  {
    words: ['node', 'evacuate'],
    usage: ['node evacuate ID [--reason R] [--wait] [--cancel]', 'move every copy off a node now (primaries first);', 'it ends in maintenance; --wait shows progress'],
    flags: [...TARGET, 'json', 'reason', 'wait', 'cancel'],
    run: async ({ flags, rest, io }) => (await import('./evacuate-command.js')).runEvacuate(rest, flags, io),
  },
  {
    words: ['node'],
    usage: ['node --config FILE --id ID', 'run one data node; or, for a node not in the', 'file: --id ID --host H --port P --coordinators A,B'],
    flags: ['config', 'id', 'host', 'port', 'coordinators', 'capacity', 'data-dir', 'log-level', 'insecure', 'ca', 'cert', 'key'],
    run: async ({ flags, io }) => (await import('./node-command.js')).runNode(flags, io),
  },
  {
    words: ['token', 'create'],
    usage: ['token create --name N --role R', 'a new API token (reader, writer, operator, admin):', 'one JSON line {name, role, token, hash}'],
    flags: ['name', 'role'],
    run: async ({ flags, io }) => (await import('./token-command.js')).runToken('create', flags, io),
  },
  {
    words: ['token', 'internal'],
    usage: ['token internal --out FILE', "the cluster's internal token, written 0600 to FILE", "(the file's auth.internalTokenFile)"],
    flags: ['out'],
    run: async ({ flags, io }) => (await import('./token-command.js')).runToken('internal', flags, io),
  },
  {
    words: ['cluster', 'up'],
    usage: ['cluster up --config FILE', 'start every coordinator and node of FILE', 'locally, stop them all on Ctrl-C'],
    flags: ['config', 'data-dir', 'log-level'],
    run: async ({ flags, io }) => (await import('./cluster-up-command.js')).runClusterUp(flags, io),
  },
  {
    words: ['config', 'get'],
    usage: ['config get [--json]', 'the cluster-wide settings, their version, and the', 'version each node runs'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, rest, io }) => (await import('./config-command.js')).runConfig('get', rest, flags, io),
  },
  {
    words: ['config', 'set'],
    usage: ['config set KEY=VALUE… [--wait] [--reason R]', 'change settings (health.leaseMs=2000 …); --wait', 'until every serving node runs them (exit 1 if not)'],
    flags: [...TARGET, 'json', 'wait', 'reason'],
    run: async ({ flags, rest, io }) => (await import('./config-command.js')).runConfig('set', rest, flags, io),
  },
  {
    words: ['snapshot', 'save'],
    usage: ['snapshot save FILE', 'the routing table (linearizable read) with its', 'Raft index and state hash, written to FILE'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, rest, io }) => (await import('./snapshot-command.js')).runSnapshot('save', rest, flags, io),
  },
  {
    words: ['snapshot', 'restore'],
    usage: ['snapshot restore FILE --config F [--id ID] [--data-dir D]', 'seed a NEW coordinator quorum (empty data dirs)', 'from a saved snapshot; nodes keep their data'],
    flags: ['config', 'id', 'data-dir'],
    run: async ({ flags, rest, io }) => (await import('./snapshot-restore.js')).runSnapshotRestore(rest, flags, io),
  },
  {
    words: ['upgrade'],
    usage: ["upgrade --to VERSION --restart 'CMD {id}' [--timeout 2m] [--resume]", 'rolling upgrade: one process at a time (nodes,', 'then coordinators, the leader last); progress on', 'stderr and in /cluster/info; exit 1 if one is not back'],
    flags: [...TARGET, 'json', 'to', 'restart', 'timeout', 'reason', 'resume'],
    run: async ({ flags, io }) => (await import('./upgrade-command.js')).runUpgrade(flags, io),
  },
  {
    words: ['explain'],
    usage: ['explain SHARD [--json]', "why the shard's copies sit where they sit, which", 'node could take one and what blocks a repair'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, rest, io }) => (await import('./explain-command.js')).runExplain(rest, flags, io),
  },
  {
    words: ['plan'],
    usage: ['plan [--fail ID] [--drain ID] [--maintenance ID] [--new-node ID:CAP[:zone=Z]]', 'the moves the planner would make, in order, and the', 'counts after (a dry run: changes nothing); repeat a', 'flag or give A,B'],
    flags: [...TARGET, 'json', 'fail', 'drain', 'maintenance', 'new-node'],
    run: async ({ flags, io }) => (await import('./plan-command.js')).runPlan({ ...flags, newNode: flags['new-node'] }, io),
  },
  {
    words: ['status'],
    usage: ['status [--json]', 'the replicas (role, term, commit, applied, last', 'contact, state hash) and the cluster state'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, io }) => (await import('./status-command.js')).runStatus(flags, io),
  },
  {
    words: ['nodes'],
    usage: ['nodes [--json]', 'the data nodes: status (suspect included), path,', 'shards, primaries, capacity, version, zone'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, io }) => (await import('./nodes-command.js')).runNodes(flags, io),
  },
  {
    words: ['shards'],
    usage: ['shards [--json]', 'every shard: primary, replicas, in sync, epoch,', 'state, recovery progress'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, io }) => (await import('./shards-command.js')).runShards(flags, io),
  },
  {
    words: ['events'],
    usage: ['events [--since N] [--follow] [--json]', 'the latest events; --follow streams new ones', 'until Ctrl-C'],
    flags: [...TARGET, 'json', 'since', 'follow'],
    run: async ({ flags, io }) => (await import('./events-command.js')).runEvents(flags, io),
  },
  {
    words: ['leader', 'transfer'],
    usage: ['leader transfer --to ID', 'hand leadership to replica ID'],
    flags: [...TARGET, 'json', 'to'],
    run: async ({ flags, io }) => (await import('./leader-command.js')).runLeaderTransfer(flags, io),
  },
  {
    words: ['members', 'add'],
    usage: ['members add --id ID --host H --api-port P --peer-port Q', '', 'add a coordinator replica (started first); it', 'joins as a learner and votes once caught up'],
    flags: [...TARGET, 'json', 'id', 'host', 'api-port', 'peer-port'],
    run: async ({ flags, io }) => (await import('./members-command.js')).runMembersAdd(flags, io),
  },
  {
    words: ['members', 'remove'],
    usage: ['members remove --id ID', 'remove a coordinator replica'],
    flags: [...TARGET, 'json', 'id'],
    run: async ({ flags, io }) => (await import('./members-command.js')).runMembersRemove(flags, io),
  },
  {
    words: ['rebalance'],
    usage: ['rebalance', 'spread the shard copies evenly again (nothing is', 'moved back to a returning node by itself)'],
    flags: [...TARGET, 'json'],
    run: async ({ flags, io }) => (await import('./rebalance-command.js')).runRebalance(flags, io),
  },
  {
    words: ['kv'],
    usage: ['kv get|put|delete KEY [VALUE]', 'read and write keys (--json: the value as', 'UTF-8 text and base64)'],
    flags: [...TARGET, 'json'],
    values: ['get', 'put', 'delete'],
    run: async ({ flags, rest, io }) => {
      const { kvSubcommand, runKv } = await import('./kv-command.js');
      const [sub, ...args] = rest;
      if (sub === undefined || kvSubcommand(sub) === undefined) throw usage(sub === undefined ? 'kv: missing subcommand (get, put, delete)' : `kv: unknown subcommand '${sub}'`);
      return runKv(sub, args, flags, io);
    },
  },
  {
    words: ['completion'],
    usage: ['completion bash|zsh', 'print the shell completion script'],
    flags: [],
    values: ['bash', 'zsh'],
    run: async ({ rest, io }) => (await import('./completion-command.js')).runCompletion(rest[0], COMMANDS, io),
  },
  {
    words: ['version'],
    usage: ['version', 'print the version (also: --version)'],
    flags: [],
    run: ({ io }) => {
      io.out(`torua ${PACKAGE_VERSION}\n`);
      return 0;
    },
  },
  {
    words: ['help'],
    usage: ['help', 'show this help'],
    flags: [],
    run: () => 0,
  },
];

/** The command `positionals` select: the longest `words` they start with. */
export function findCommand(positionals: readonly string[]): CommandSpec | undefined {
  let best: CommandSpec | undefined;
  for (const c of COMMANDS) {
    if (c.words.every((w, i) => positionals[i] === w) && (best === undefined || c.words.length > best.words.length)) best = c;
  }
  return best;
}
