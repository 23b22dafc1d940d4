/**
 * `torua cluster up --config FILE [--data-dir DIR] [--log-level L]`: every
 * coordinator and data node of the file as a child process, their state
 * changes as they happen, and all of them stopped on Ctrl-C, SIGTERM or
 * SIGHUP (a second signal kills them at once). The nodes are stopped first
 * and without draining (SIGINT): the whole cluster goes down, so moving
 * shards between its nodes would only delay that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { joinAddress, probeReplicas } from '../client/index.js';
import { loadClusterFile, resolveCoordinator, resolveNode, tlsPaths, type ClusterFile } from '../config/index.js';
import { installProcessTls } from '../tls/process-tls.js';
import { TlsSource } from '../tls/tls-source.js';
import { webOrigin } from '../tls/web.js';
import { MAIN_SCRIPT, startChild, stopChildren, type Child } from './child-processes.js';
import { initialNodeWatchState, nodeWatchStep, probeNode } from './cluster-node-watch.js';
import { initialWatchState, watchStep } from './cluster-watch.js';
import { busyPorts } from './free-ports.js';
import type { CliIo } from './run.js';

export interface ClusterUpFlags {
  readonly config?: string | undefined;
  readonly 'data-dir'?: string | undefined;
  readonly 'log-level'?: string | undefined;
}

/** Health probes are local answers: a replica slower than this is as good as down for the display. */
const PROBE_TIMEOUT_MS = 500;
const POLL_INTERVAL_MS = 250;
/** A replica closes its API, Raft and LevelDB in well under a second; a stuck one is killed. */
export const STOP_DEADLINE_MS = 10_000;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const clock = () => {
  const d = new Date();
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};

/** A path as the user would type it from here. */
const shown = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
};

async function loadFile(flags: ClusterUpFlags, io: CliIo): Promise<ClusterFile | undefined> {
  if (!flags.config) {
    io.err('torua cluster up: --config FILE is required\n');
    return undefined;
  }
  try {
    const file = await loadClusterFile(flags.config);
    // The overrides are checked here, once, rather than by each child in its log.
    const overrides = { dataDir: flags['data-dir'], logLevel: flags['log-level'] };
    for (const c of file.coordinators) resolveCoordinator(file, c.id, overrides, flags.config);
    for (const n of file.nodes) resolveNode(file, n.id, overrides, flags.config);
    return file;
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return undefined;
  }
}

function childArgs(role: 'coordinator' | 'node', configPath: string, id: string, flags: ClusterUpFlags): string[] {
  const args = [role, '--config', configPath, '--id', id];
  if (flags['data-dir'] !== undefined) args.push('--data-dir', flags['data-dir']);
  if (flags['log-level'] !== undefined) args.push('--log-level', flags['log-level']);
  return args;
}

function describeExit(r: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (r.signal !== null) return `killed by ${r.signal}`;
  return r.code === null ? 'could not be started' : `exit code ${r.code}`;
}

export async function runClusterUp(flags: ClusterUpFlags, io: CliIo): Promise<number> {
  const file = await loadFile(flags, io);
  if (file === undefined || flags.config === undefined) return 2;
  const configPath = path.resolve(flags.config);
  // With the file's `tls`, this process watches the cluster with the CLI's certificate (client.crt of the same directory).
  const client = tlsPaths(file, 'client', configPath);
  try {
    if (client !== undefined) installProcessTls(new TlsSource(client, file.clusterId));
  } catch (e) {
    io.err(`torua cluster up: ${(e as Error).message}\n`);
    return 2;
  }
  const busy = await busyPorts(
    file.coordinators.flatMap((c) => [
      { what: `${c.id} apiPort`, host: c.host, port: c.apiPort },
      { what: `${c.id} peerPort`, host: c.host, port: c.peerPort },
    ]).concat(file.nodes.map((n) => ({ what: `${n.id} port`, host: n.host, port: n.port }))),
  );
  if (busy.length > 0) {
    io.err(`torua cluster up: cannot start, ports in use (is the cluster already running? \`torua status --config ${flags.config}\`):\n${busy.map((b) => `  ${b}\n`).join('')}`);
    return 1;
  }
  const logDir = path.join(path.resolve(flags['data-dir'] ?? file.dataDir), 'logs');
  fs.mkdirSync(logDir, { recursive: true });

  const say = (line: string) => io.out(`${clock()} ${line}\n`);
  let stopping = false;
  let signalled: (signal: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => (signalled = resolve));
  let children: Child[] = [];
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) signalled(signal);
    else for (const c of children) if (!c.exitedAlready()) c.process.kill('SIGKILL'); // impatient: a second Ctrl-C
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);

  const coordinators = file.coordinators.map((c) =>
    startChild({ id: c.id, args: childArgs('coordinator', configPath, c.id, flags), logFile: path.join(logDir, `${c.id}.log`) }),
  );
  // Nodes retry their registration until a leader answers, so they may start at once.
  const nodes = file.nodes.map((n) => startChild({ id: n.id, args: childArgs('node', configPath, n.id, flags), logFile: path.join(logDir, `${n.id}.log`) }));
  children = [...coordinators, ...nodes];
  for (const c of children) {
    void c.exited.then((r) => {
      if (!stopping) say(`${c.id} exited (${describeExit(r)}); its log: ${shown(c.logFile)}`);
    });
  }
  // Without a coordinator nothing can be served: that ends the run; a node that exits is only reported.
  const allExited = Promise.all(coordinators.map((c) => c.exited)).then(() => 'exited' as const);

  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  io.out(`torua cluster up: cluster ${file.clusterId} from ${flags.config}, ${plural(file.coordinators.length, 'coordinator')}, ${plural(file.nodes.length, 'data node')}\n`);
  for (const [i, c] of file.coordinators.entries()) {
    const child = coordinators[i];
    io.out(`  ${c.id}  pid ${child?.process.pid ?? '?'}  ${webOrigin(joinAddress(c.host, c.apiPort))}/cluster/info  log ${shown(child?.logFile ?? '')}\n`);
  }
  for (const [i, n] of file.nodes.entries()) {
    const child = nodes[i];
    io.out(`  ${n.id}  pid ${child?.process.pid ?? '?'}  ${webOrigin(joinAddress(n.host, n.port))}/info  log ${shown(child?.logFile ?? '')}\n`);
  }
  const first = file.coordinators[0];
  // Any replica serves the dashboard; the first is as good as any (its page links the others if it goes away).
  if (first !== undefined) io.out(`dashboard: ${webOrigin(joinAddress(first.host, first.apiPort))}/ui/\n`);
  io.out(`status: node ${shown(MAIN_SCRIPT)} status --config ${flags.config}   (Ctrl-C stops the cluster)\n`);

  const ids = file.coordinators.map((c) => c.id);
  const addresses = file.coordinators.map((c) => joinAddress(c.host, c.apiPort));
  const nodeIds = file.nodes.map((n) => n.id);
  const nodeAddresses = file.nodes.map((n) => joinAddress(n.host, n.port));
  let watch = initialWatchState;
  let nodeWatch = initialNodeWatchState;
  let ended: string | undefined;
  void stopRequested.then((s) => (ended = s));
  void allExited.then((s) => (ended ??= s));
  while (ended === undefined) {
    const [probes, nodeProbes] = await Promise.all([
      probeReplicas(addresses, { timeoutMs: PROBE_TIMEOUT_MS }),
      Promise.all(nodeAddresses.map((a) => probeNode(a, PROBE_TIMEOUT_MS))),
    ]);
    if (ended !== undefined) break;
    const step = watchStep(watch, ids, probes);
    watch = step.state;
    for (const line of step.lines) say(line);
    const nodeStep = nodeWatchStep(nodeWatch, nodeIds, nodeProbes);
    nodeWatch = nodeStep.state;
    for (const line of nodeStep.lines) say(line);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, POLL_INTERVAL_MS))), stopRequested, allExited]);
    clearTimeout(timer);
  }

  stopping = true;
  let code = 0;
  if (ended === 'exited') {
    say(`every coordinator exited; the logs are in ${shown(logDir)}`);
    await stopChildren(nodes, STOP_DEADLINE_MS, 'SIGINT');
    code = 1;
  } else {
    say(`${ended}: stopping ${children.filter((c) => !c.exitedAlready()).map((c) => c.id).join(', ') || 'nothing (all exited)'}`);
    const killed = [...(await stopChildren(nodes, STOP_DEADLINE_MS, 'SIGINT')), ...(await stopChildren(coordinators, STOP_DEADLINE_MS))];
    if (killed.length > 0) say(`${killed.join(', ')} did not stop within ${STOP_DEADLINE_MS / 1_000} s: killed (SIGKILL)`);
    say('stopped');
  }
  for (const s of STOP_SIGNALS) process.off(s, onSignal);
  return code;
}
