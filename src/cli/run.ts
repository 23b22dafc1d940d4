import { parseArgs } from 'node:util';
import { runCoordinator } from './coordinator-command.js';

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
  node --config FILE --id ID          run one data node
  node --id ID --host H --port P --coordinators A,B,C
                                      run a data node that is not in the file
  cluster up --config FILE            start every coordinator and node of FILE
                                      locally, stop them all on Ctrl-C
  status                              show the cluster as a coordinator sees it
  kv get|put|delete KEY [VALUE]       read and write keys
  help                                show this help

Options:
  --config FILE         cluster file (see cluster.example.json)
  --id ID               which coordinator or node of the file to run
  --data-dir DIR        overrides the file's dataDir
  --log-level LEVEL     overrides the log level
  -h, --help            show this help
`;

const options = {
  config: { type: 'string' },
  id: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  coordinators: { type: 'string' },
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Exit code for bad usage and for commands that do not exist yet. */
export const EXIT_USAGE = 2;

function notImplemented(io: CliIo, command: string): number {
  io.err(`torua ${command}: not implemented yet (arrives with the coordinator replica issue)\n`);
  return EXIT_USAGE;
}

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
    case 'status':
      return notImplemented(io, command);
    case 'cluster':
      if (sub === 'up') return notImplemented(io, 'cluster up');
      return usageError(io, sub === undefined ? 'cluster: missing subcommand (up)' : `cluster: unknown subcommand '${sub}'`);
    case 'kv':
      if (sub === 'get' || sub === 'put' || sub === 'delete') return notImplemented(io, `kv ${sub}`);
      return usageError(io, sub === undefined ? 'kv: missing subcommand (get, put, delete)' : `kv: unknown subcommand '${sub}'`);
    default:
      return usageError(io, `unknown command '${command}'`);
  }
}
