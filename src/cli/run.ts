import { parseArgs } from 'node:util';
import { runClusterUp } from './cluster-up-command.js';
import { runCoordinator } from './coordinator-command.js';
import { kvSubcommand, runKv } from './kv-command.js';
import { runLeaderTransfer } from './leader-command.js';
import { runMembersAdd, runMembersRemove } from './members-command.js';
import { runEvacuate } from './evacuate-command.js';
import { runExplain } from './explain-command.js';
import { runPlan } from './plan-command.js';
import { runMaintenance } from './maintenance-command.js';
import { runNode } from './node-command.js';
import { runRebalance } from './rebalance-command.js';
import { runStatus } from './status-command.js';

/** Where the command writes; injected so tests can capture it. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export const USAGE = `Usage: torua <command> [options]

Commands:
  coordinator --config FILE --id ID   run one coordinator replica
              [--join]                a replica that is not a voter of the file's cluster
                                      yet: it waits to be added (POST /cluster/members)
  node --config FILE --id ID          run one data node
  node --id ID --host H --port P --coordinators A,B,C
                                      run a data node that is not in the file
  node maintenance on|off ID… [--ttl 30m] [--reason R] [--wait]
                                      put nodes in maintenance (their copies move away,
                                      they are never declared failed) or end it
  node evacuate ID [--reason R] [--wait] [--cancel]
                                      move every copy off a node now (primaries first);
                                      it ends in maintenance; --wait shows progress
  cluster up --config FILE            start every coordinator and node of FILE
                                      locally, stop them all on Ctrl-C
  status [--json]                     the replicas (role, term, commit, applied, last
                                      contact, state hash) and the cluster state
  leader transfer --to ID             hand leadership to replica ID
  members add --id ID --host H --api-port P --peer-port Q
                                      add a coordinator replica (started first); it
                                      joins as a learner and votes once caught up
  members remove --id ID              remove a coordinator replica
  rebalance                           spread the shard copies evenly again (nothing is
                                      moved back to a returning node by itself)
  explain SHARD [--json]              why the shard's copies sit where they sit, which
                                      node could take one and what blocks a repair
  plan [--fail ID] [--drain ID] [--maintenance ID] [--new-node ID:CAP[:zone=Z]]
       [--json]
                                      the moves the planner would make, in order, and the
                                      counts after (a dry run: changes nothing)
  kv get|put|delete KEY [VALUE]       read and write keys
  help                                show this help

Options:
  --config FILE         cluster file (see cluster.example.json)
  --id ID               which coordinator or node of the file to run
  --data-dir DIR        overrides the file's dataDir
  --log-level LEVEL     overrides the log level
  --coordinators A,B,C  where status, leader, members and rebalance connect (host:apiPort,
                        any replica); default: the coordinators of --config FILE, or of
                        ./cluster.example.json when neither is given
  --json                status: the raw data as JSON
  --ttl DURATION        node maintenance on: it ends by itself after 90s, 30m, 2h …
  --reason R            node maintenance, node evacuate: why (kept in the events)
  --wait                node maintenance, node evacuate: wait until done (exit 1 if stalled)
  --cancel              node evacuate: stop the evacuation
  --fail, --drain, --maintenance ID
                        plan: nodes to imagine failed, draining, in maintenance
                        (repeat the flag or give A,B)
  --new-node ID:CAP[:k=v,…]
                        plan: a node to imagine joining, with its capacity and labels
  -h, --help            show this help
`;

const options = {
  config: { type: 'string' },
  id: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  coordinators: { type: 'string' },
  capacity: { type: 'string' },
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  join: { type: 'boolean' },
  json: { type: 'boolean' },
  to: { type: 'string' },
  'api-port': { type: 'string' },
  'peer-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ttl: { type: 'string' },
  reason: { type: 'string' },
  wait: { type: 'boolean' },
  cancel: { type: 'boolean' },
  fail: { type: 'string', multiple: true },
  drain: { type: 'string', multiple: true },
  maintenance: { type: 'string', multiple: true },
  'new-node': { type: 'string', multiple: true },
} as const;

/** Exit code for bad usage. */
export const EXIT_USAGE = 2;

function usageError(io: CliIo, message: string): number {
  io.err(`torua: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

/** Runs the `torua` command with `argv` (without node and script) and returns the exit code. */
export function run(argv: readonly string[], io: CliIo = defaultIo): number | Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, sub] = positionals;

  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  switch (command) {
    case 'coordinator':
      return runCoordinator(values, io);
    case 'node':
      if (sub === 'maintenance') return runMaintenance(positionals.slice(2), values, io, io === defaultIo && process.stdout.isTTY === true);
      if (sub === 'evacuate') return runEvacuate(positionals.slice(2), values, io, io === defaultIo && process.stdout.isTTY === true);
      return runNode(values, io);
    case 'status':
      return runStatus(values, io);
    case 'cluster':
      if (sub === 'up') return runClusterUp(values, io);
      return usageError(io, sub === undefined ? 'cluster: missing subcommand (up)' : `cluster: unknown subcommand '${sub}'`);
    case 'leader':
      if (sub === 'transfer') return runLeaderTransfer(values, io);
      return usageError(io, sub === undefined ? 'leader: missing subcommand (transfer)' : `leader: unknown subcommand '${sub}'`);
    case 'members':
      if (sub === 'add') return runMembersAdd(values, io);
      if (sub === 'remove') return runMembersRemove(values, io);
      return usageError(io, sub === undefined ? 'members: missing subcommand (add, remove)' : `members: unknown subcommand '${sub}'`);
    case 'rebalance':
      return runRebalance(values, io);
    case 'explain':
      return runExplain(positionals.slice(1), values, io);
    case 'plan':
      return runPlan({ ...values, newNode: values['new-node'] }, io);
    case 'kv':
      if (sub === undefined || kvSubcommand(sub) === undefined) {
        return usageError(io, sub === undefined ? 'kv: missing subcommand (get, put, delete)' : `kv: unknown subcommand '${sub}'`);
      }
      // The real stdout takes a value's raw bytes; a test's io gets them as text.
      return runKv(sub, positionals.slice(2), values, io === defaultIo ? { ...io, outBytes: (b) => process.stdout.write(b) } : io);
    default:
      return usageError(io, `unknown command '${command}'`);
  }
}
