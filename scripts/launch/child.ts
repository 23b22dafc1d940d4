/**
 * One long-lived child process (a torua coordinator or node, etcd, the fleet
 * process), started with execa and tracked by PID across its lives: every
 * line it prints goes to its log file (appended, life after life) and to an
 * in-memory tail that line listeners also see, so a harness can wait for
 * "coordinator ready" and a failure can print what the process said last.
 * With `output: 'file'` its output goes straight into the log file instead
 * (no pipe: a child never blocks on a parent busy measuring it; benches and
 * chaos use it), and the tail is read from the file's end.
 * Signals go to the PID; the state (running, stopped, down) follows them
 * and the exit.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { waitFor } from './wait-for.js';

export type ChildState = 'down' | 'running' | 'stopped';
export type StopSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT';
export type ChildSignal = StopSignal | 'SIGSTOP' | 'SIGCONT' | 'SIGHUP';
export type OutputStream = 'stdout' | 'stderr';
export type LineListener = (line: string, stream: OutputStream) => void;

export interface Exit {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
}

export interface ChildSpec {
  /** Names the child in errors and in its log's markers. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Lines kept in memory (default 400). */
  readonly tailLines?: number;
  /** 'lines' (default): piped, kept and passed to listeners; 'file': straight into the log file. */
  readonly output?: 'lines' | 'file';
}

/** A life's overrides (another build, a fault switch for this life only). */
export interface LifeOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const DEFAULT_TAIL_LINES = 400;
/** How much of the end of a log file `tail()` reads in 'file' mode. */
const FILE_TAIL_BYTES = 128 * 1024;
const CLOCK_TICKS_PER_S = 100;

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): utime is [11], stime [12]. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone, or no /proc
  }
}

/** CPU seconds (user + system) process `pid` has used so far; 0 when it is gone or there is no /proc. */
export function cpuSecondsOf(pid: number): number {
  const f = procStat(pid);
  return f === undefined ? 0 : (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S;
}

/** Whether a process `pid` exists (signal 0 by PID). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Child {
  state: ChildState = 'down';
  pid: number | undefined;
  lives = 0;
  lastExit: Exit | undefined;
  /** The current (or last) life's exit. */
  exited: Promise<Exit> = Promise.resolve({ exitCode: undefined, signal: undefined });
  private readonly lines: string[] = [];
  private readonly listeners = new Set<LineListener>();
  private log: fs.WriteStream | undefined;
  private proc: ResultPromise | undefined;

  constructor(readonly spec: ChildSpec) {}

  get name(): string {
    return this.spec.name;
  }

  /** Running or stopped: a process exists. */
  get alive(): boolean {
    return this.state !== 'down';
  }

  /** Starts a new life (the child must be down). */
  start(life: LifeOptions = {}): void {
    if (this.state !== 'down') throw new Error(`${this.name} is already ${this.state}`);
    if (!this.toFile) this.log ??= fs.createWriteStream(this.spec.logFile, { flags: 'a' });
    const args = life.args ?? this.spec.args;
    const fd = this.toFile ? fs.openSync(this.spec.logFile, 'a') : undefined;
    const options = {
      ...(this.spec.cwd === undefined ? {} : { cwd: this.spec.cwd }),
      reject: false,
      buffer: false,
      // Killed with this process even if nothing else runs (a crash of the harness).
      cleanup: true,
      env: { ...this.spec.env, ...life.env },
    } as const;
    const proc: ResultPromise =
      fd === undefined
        ? execa(this.spec.command, args, { ...options, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
        : // execa hands a file descriptor to spawn as is; its types do not list one for stdout/stderr.
          execa(this.spec.command, args, { ...options, stdin: 'ignore', stdout: fd as unknown as 'ignore', stderr: fd as unknown as 'ignore' });
    if (fd !== undefined) fs.closeSync(fd);
    this.proc = proc;
    this.pid = proc.pid;
    this.state = 'running';
    const n = ++this.lives;
    this.keep(`--- life ${n}: pid ${String(proc.pid)}: ${args.join(' ')}`);
    for (const stream of ['stdout', 'stderr'] as const) {
      const s = proc[stream];
      if (s) readline.createInterface({ input: s, crlfDelay: Infinity }).on('line', (line) => this.line(line, stream));
    }
    this.exited = proc.then((r) => {
      const exit: Exit = { exitCode: r.exitCode, signal: r.signal };
      this.lastExit = exit;
      if (this.proc === proc) {
        this.state = 'down';
        this.proc = undefined;
      }
      this.keep(`--- life ${n}: exited (code ${String(exit.exitCode)}, signal ${String(exit.signal)})${r.failed && r.exitCode === undefined && r.signal === undefined ? `: ${r.shortMessage}` : ''}`);
      return exit;
    });
  }

  private get toFile(): boolean {
    return this.spec.output === 'file';
  }

  private line(line: string, stream: OutputStream): void {
    this.keep(line);
    for (const l of this.listeners) l(line, stream);
  }

  /** Adds a line to the tail and the log file (the harness's own markers too). */
  keep(line: string): void {
    if (this.toFile) {
      // Beside the child's own writes to the same file (both append).
      fs.appendFileSync(this.spec.logFile, `${line}\n`);
      return;
    }
    this.lines.push(line);
    const max = this.spec.tailLines ?? DEFAULT_TAIL_LINES;
    if (this.lines.length > max) this.lines.splice(0, this.lines.length - max);
    this.log?.write(`${line}\n`);
  }

  /** Every line printed from now on, of every life; returns the unsubscribe. */
  onLine(listener: LineListener): () => void {
    if (this.toFile) throw new Error(`${this.name}: its output goes straight to ${this.spec.logFile}, no lines to listen to`);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last `n` lines kept. */
  tail(n = DEFAULT_TAIL_LINES): readonly string[] {
    if (!this.toFile) return this.lines.slice(-n);
    try {
      const fd = fs.openSync(this.spec.logFile, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.min(size, FILE_TAIL_BYTES));
        fs.readSync(fd, buf, 0, buf.length, size - buf.length);
        return buf.toString('utf8').trimEnd().split('\n').slice(-n);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return []; // no log yet
    }
  }

  /** Sends `signal` to the PID; SIGSTOP and SIGCONT change the state. */
  signal(signal: ChildSignal): void {
    if (this.state === 'down' || this.pid === undefined) throw new Error(`${this.name} is not running`);
    process.kill(this.pid, signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      this.state = signal === 'SIGSTOP' ? 'stopped' : 'running';
      this.keep(`--- ${signal} at ${new Date().toISOString()}`);
    }
  }

  /**
   * Sends `signal` (a stopped child is resumed so it can act on it) and
   * waits for the exit; after `graceMs` without one, SIGKILL (`forced`).
   * A child that is down returns its last exit.
   */
  async stop(signal: StopSignal = 'SIGKILL', graceMs = 20_000): Promise<{ readonly exit: Exit; readonly forced: boolean }> {
    if (this.state === 'down' || this.pid === undefined) return { exit: this.lastExit ?? { exitCode: undefined, signal: undefined }, forced: false };
    const pid = this.pid;
    const exited = this.exited;
    const stopped = this.state === 'stopped';
    try {
      process.kill(pid, signal);
      if (stopped) process.kill(pid, 'SIGCONT');
    } catch {
      // Exited meanwhile: `exited` settles.
    }
    if (stopped) this.state = 'running';
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)))]);
    clearTimeout(timer);
    if (first !== 'timeout') return { exit: first, forced: false };
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    return { exit: await exited, forced: true };
  }

  /** At process exit (nothing async runs any more): resumes and SIGKILLs the PID. */
  killSync(): void {
    if (this.state === 'down' || this.pid === undefined) return;
    try {
      if (this.state === 'stopped') process.kill(this.pid, 'SIGCONT');
      process.kill(this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  /**
   * Polls `probe` until it holds (`what`: "it to answer /health");
   * throws with the child's last lines when this life exits first or the
   * wait times out.
   */
  async waitReady(what: string, probe: () => boolean | Promise<boolean>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
    const life = this.lives;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const exitedFirst = this.exited.then((e) => {
      throw new Error(`${this.name} exited (code ${String(e.exitCode)}, signal ${String(e.signal)}) while waiting for ${what}:\n${this.tail(30).join('\n')}`);
    });
    const ready = waitFor(what, async () => (this.lives !== life || this.state === 'down' ? undefined : (await probe()) || undefined), {
      timeoutMs,
      intervalMs: opts.intervalMs ?? 25,
    }).catch((e: unknown) => {
      throw new Error(`${this.name}: ${e instanceof Error ? e.message : String(e)}:\n${this.tail(30).join('\n')}`);
    });
    try {
      await Promise.race([ready, exitedFirst]);
    } finally {
      exitedFirst.catch(() => undefined);
      ready.catch(() => undefined);
    }
  }

  /** CPU seconds this life has used so far (0 when down). */
  cpuSeconds(): number {
    return this.state === 'down' || this.pid === undefined ? 0 : cpuSecondsOf(this.pid);
  }

  /** Flushes and closes the log file (once the child is down). */
  async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((r) => log.end(() => r()));
  }
}
