/**
 * The processes `torua cluster up` starts: `node <this build>/src/cli/main.js
 * coordinator|node --config F --id X`, each writing its
 * JSON log to its own file (the terminal keeps only cluster up's own
 * lines), and stopped with SIGTERM, then SIGKILL after a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** This build's entry point: children run the same code as the parent. */
export const MAIN_SCRIPT = fileURLToPath(new URL('./main.js', import.meta.url));

export interface ChildSpec {
  readonly id: string;
  readonly args: readonly string[];
  readonly logFile: string;
}

export interface Child {
  readonly id: string;
  readonly logFile: string;
  readonly process: ChildProcess;
  /** Resolves when the process exited, with how. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitedAlready(): boolean;
}

export function startChild(spec: ChildSpec): Child {
  // Appending: the log of the previous run stays (JSON lines; each carries its pid and time).
  const log = fs.openSync(spec.logFile, 'a');
  let exitedAlready = false;
  // Its own process group: a Ctrl-C in the terminal reaches cluster up only, which stops the children in order,
  // instead of every child at once while cluster up still reports them going down one by one.
  const child = spawn(process.execPath, [MAIN_SCRIPT, ...spec.args], { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log); // the child has its own copy of the descriptor
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAlready = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      // spawn itself failed (no such executable): no exit event follows.
      exitedAlready = true;
      resolve({ code: null, signal: null });
    });
  });
  return { id: spec.id, logFile: spec.logFile, process: child, exited, exitedAlready: () => exitedAlready };
}

/** `signal` (SIGTERM) to every child still running, SIGKILL to those not gone by the deadline. Resolves the ids that needed SIGKILL. */
export async function stopChildren(children: readonly Child[], deadlineMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<string[]> {
  const running = children.filter((c) => !c.exitedAlready());
  for (const c of running) c.process.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  await Promise.race([Promise.all(running.map((c) => c.exited)), deadline]);
  clearTimeout(timer);
  const stuck = running.filter((c) => !c.exitedAlready());
  for (const c of stuck) c.process.kill('SIGKILL');
  await Promise.all(stuck.map((c) => c.exited));
  return stuck.map((c) => c.id);
}
