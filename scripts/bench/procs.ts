/**
 * A small process starter for the bench (scripts/ may not import from test/):
 * a temporary directory, free ports on loopback aliases, children tracked by
 * PID with their output in log files, and a cleanup that kills every child by
 * PID and removes the directory — at the end, on an error and on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const now = (): number => performance.now();

export function log(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

function listenOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const usedPorts = new Set<number>();

/** A port `host` can listen on, outside the ephemeral range. */
export async function freePort(host: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (usedPorts.has(port)) continue;
    if (await listenOnce(host, port)) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error(`no free port found on ${host}`);
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  alive: boolean;
  stopped: boolean;
}

/** Every child started and not known to have exited, and every temporary directory, for the cleanup. */
const children = new Set<Child>();
const dirs = new Set<string>();
let cleanupInstalled = false;

function killAllSync(): void {
  for (const c of children) {
    try {
      if (c.stopped) process.kill(c.pid, 'SIGCONT');
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const d of dirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  dirs.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: killing ${children.size} child process(es) and removing the temporary directory`);
      killAllSync();
      process.exit(130);
    });
  }
}

export async function makeTempDir(prefix: string): Promise<string> {
  installCleanup();
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.add(d);
  return d;
}

export async function removeDir(d: string): Promise<void> {
  await fsp.rm(d, { recursive: true, force: true });
  dirs.delete(d);
}

/** Starts `cmd args`, output appended to `logFile` (no pipes: a child never blocks on us). */
export function startChild(name: string, cmd: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Child {
  installCleanup();
  const fd = fs.openSync(logFile, 'a');
  const proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    alive: true,
    stopped: false,
    exited: new Promise<void>((resolve) => {
      proc.once('exit', () => {
        child.alive = false;
        children.delete(child);
        resolve();
      });
      proc.once('error', () => {
        child.alive = false;
        children.delete(child);
        resolve();
      });
    }),
  };
  children.add(child);
  return child;
}

/** Sends `signal` by PID; for SIGKILL waits (bounded) until the child exited. */
export async function signalChild(c: Child, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM'): Promise<void> {
  if (!c.alive) return;
  process.kill(c.pid, signal);
  if (signal === 'SIGSTOP') c.stopped = true;
  if (signal === 'SIGCONT') c.stopped = false;
  if (signal === 'SIGKILL' || signal === 'SIGTERM') {
    if (c.stopped) process.kill(c.pid, 'SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([c.exited, new Promise<void>((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (c.alive) {
      process.kill(c.pid, 'SIGKILL');
      await c.exited;
    }
  }
}

/** SIGKILL, or SIGTERM (then SIGKILL after 10 s) while TORUA_BENCH_NODE_ARGS is set: a process run with --cpu-prof writes its profile only when it exits by itself. */
export async function killAll(list: readonly Child[]): Promise<void> {
  const signal = benchNodeArgs().includes('--cpu-prof') ? 'SIGTERM' : 'SIGKILL';
  await Promise.all(list.filter((c) => c.alive).map((c) => signalChild(c, signal)));
}

/** TORUA_BENCH_NODE_ARGS (space-separated) go before the script of every torua process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export function benchNodeArgs(): string[] {
  return (process.env['TORUA_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

/** Polls `probe` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 20): Promise<T> {
  const deadline = now() + timeoutMs;
  for (let i = 0; i < 1_000_000; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (now() > deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const CLOCK_TICKS_PER_S = 100;

/**
 * CPU seconds (user + system) the running children have used so far, from
 * /proc (Linux; 0 elsewhere). The difference over a measure divided by its
 * operations is a cost per operation that a busy machine distorts far less
 * than operations per second.
 */
export function childrenCpuSeconds(list: readonly Child[]): number {
  let ticks = 0;
  for (const c of list) {
    if (!c.alive) continue;
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone or no /proc: counts nothing.
    }
  }
  return ticks / CLOCK_TICKS_PER_S;
}

