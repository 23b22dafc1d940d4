/** The `torua` command: parses the flags, picks the command from commands.ts and runs it. */
import { CliError } from './cli-error.js';
import { COMMANDS, findCommand } from './commands.js';
import { installProcessTls, processTls } from '../tls/process-tls.js';
import { TlsSource } from '../tls/tls-source.js';
import { tlsFlags, type TlsFlagValues } from './tls-flags.js';
import { EXIT_USAGE } from './exit-codes.js';
import { parseFlags } from './flags.js';
import { PACKAGE_VERSION } from './package-version.js';

export { EXIT_USAGE } from './exit-codes.js';

/** Where the command writes; injected so tests can capture it. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (progress bars redraw in place there). */
  errIsTty?: boolean;
  /** A value's raw bytes (`kv get`); a test's io gets them as text instead. */
  outBytes?: (bytes: Uint8Array) => void;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTty: process.stderr.isTTY === true,
  outBytes: (bytes) => process.stdout.write(bytes),
};

const SYNOPSIS_WIDTH = 36;

function usageText(): string {
  const lines: string[] = [];
  for (const c of COMMANDS) {
    const [synopsis, ...description] = c.usage;
    const first = description[0] ?? '';
    if (synopsis.length + 2 > SYNOPSIS_WIDTH || first === '') {
      lines.push(`  ${synopsis}`);
      for (const d of description) if (d !== '') lines.push(`  ${''.padEnd(SYNOPSIS_WIDTH)}${d}`);
    } else {
      lines.push(`  ${synopsis.padEnd(SYNOPSIS_WIDTH)}${first}`);
      for (const d of description.slice(1)) lines.push(`  ${''.padEnd(SYNOPSIS_WIDTH)}${d}`);
    }
  }
  return `Usage: torua <command> [options]

Commands:
${lines.join('\n')}

Options:
  --config FILE         cluster file (see cluster.example.json)
  --id ID               which coordinator or node of the file to run
  --data-dir DIR        overrides the file's dataDir
  --log-level LEVEL     overrides the log level
  --coordinators A,B,C  where the commands that talk to a cluster connect (host:apiPort,
                        any replica); default: the coordinators of --config FILE, or of
                        ./cluster.example.json when neither is given
  --token TOKEN         an API token for a cluster with auth (default: TORUA_TOKEN)
  --json                one JSON document on stdout: {"ok":true,"command","data"} or
                        {"ok":false,"command","exit_code","error":{"code","message"}}
  -V, --version         print the version
  -h, --help            show this help

Exit codes: 0 done, 1 refused or failed, 2 bad usage, 3 no coordinator reachable.
`;
}

export const USAGE = usageText();

function usageError(io: CliIo, message: string): number {
  io.err(`torua: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

/** What to say about positionals that select no command: an unknown command, or a group without (or with a wrong) subcommand. */
function unknownCommand(positionals: readonly string[]): string {
  const [first, second] = positionals;
  const subs = COMMANDS.filter((c) => c.words[0] === first && c.words.length > 1).map((c) => c.words[1]!);
  if (subs.length === 0) return `unknown command '${first}'`;
  return second === undefined ? `${first}: missing subcommand (${subs.join(', ')})` : `${first}: unknown subcommand '${second}'`;
}

/** Runs the `torua` command with `argv` (without node and script) and returns the exit code. */
export function run(argv: readonly string[], io: CliIo = defaultIo): number | Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(argv);
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version && positionals.length === 0) {
    io.out(`torua ${PACKAGE_VERSION}\n`);
    return 0;
  }
  if (values.help || positionals.length === 0 || positionals[0] === 'help') {
    io.out(USAGE);
    return 0;
  }
  const command = findCommand(positionals);
  if (command === undefined) return usageError(io, unknownCommand(positionals));
  let restore: () => void = () => undefined;
  try {
    // Servers set up their own certificates; a client command presents --ca/--cert/--key for this run only.
    if (!SERVER_COMMANDS.has(command.words[0]!)) restore = clientTls(command.words.join(' '), values);
    const code = command.run({ flags: values, rest: positionals.slice(command.words.length), io });
    if (typeof code === 'number') {
      restore();
      return code;
    }
    return code.catch((e: unknown) => (e instanceof CliError && e.exitCode === EXIT_USAGE ? usageError(io, e.message) : Promise.reject(e))).finally(restore);
  } catch (e) {
    restore();
    if (e instanceof CliError && e.exitCode === EXIT_USAGE) return usageError(io, e.message);
    throw e;
  }
}

const SERVER_COMMANDS = new Set(['coordinator', 'node', 'cluster', 'certs']);

/** Installs the certificate of --ca/--cert/--key for the clients this command makes; returns what puts the previous one back. */
function clientTls(command: string, flags: TlsFlagValues): () => void {
  const paths = tlsFlags(`torua ${command}`, flags);
  if (paths === undefined) return () => undefined;
  const previous = processTls();
  let source;
  try {
    source = new TlsSource(paths);
  } catch (e) {
    throw new CliError(`torua ${command}: ${(e as Error).message}`, EXIT_USAGE);
  }
  installProcessTls(source);
  return () => installProcessTls(previous);
}
