/**
 * A set of children and their temporary directory (logs/ for their output,
 * whatever else the harness puts there). `close()` resumes stopped children,
 * stops every one by PID, waits for their exits and removes the directory
 * (unless kept). One hook per process kills the leftovers of every group
 * still open synchronously at exit, and outside vitest on SIGINT/SIGTERM too.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Child, type ChildSpec, type StopSignal } from './child.js';
import { log } from './log.js';
import { sleep } from './wait-for.js';

export interface GroupOptions {
  /** The temporary directory's name starts with it. */
  readonly prefix: string;
  /** Leave the directory (data and logs) after close. */
  readonly keep?: boolean;
  /** What close sends first (default SIGKILL); a process run with --cpu-prof writes its profile only when it exits by itself. */
  readonly stopSignal?: StopSignal;
  /** Where the children's output goes unless a child says otherwise (see ChildSpec.output). */
  readonly output?: 'lines' | 'file';
}

const open = new Set<LaunchGroup>();
let hooked = false;

function closeAllSync(): void {
  for (const g of open) g.closeSync();
  open.clear();
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', closeAllSync);
  // Under vitest the worker's own teardown decides; a bench or chaos run stops on Ctrl-C with nothing left behind.
  if (process.env['VITEST'] !== undefined) return;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      const n = [...open].reduce((sum, g) => sum + g.children.filter((c) => c.alive).length, 0);
      log(`${sig}: killing ${n} child process(es) and removing the temporary directories`);
      closeAllSync();
      process.exit(130);
    });
  }
}

export class LaunchGroup {
  private readonly byName = new Map<string, Child>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly opts: GroupOptions,
  ) {}

  static async create(opts: GroupOptions): Promise<LaunchGroup> {
    installHooks();
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), opts.prefix));
    const g = new LaunchGroup(dir, opts);
    open.add(g);
    await fsp.mkdir(g.logsDir);
    return g;
  }

  get logsDir(): string {
    return path.join(this.dir, 'logs');
  }

  get children(): Child[] {
    return [...this.byName.values()];
  }

  /** A child of the group, not started; its log is logs/<name>.log unless the spec says otherwise. */
  add(spec: Omit<ChildSpec, 'logFile'> & { readonly logFile?: string }): Child {
    if (this.closed) throw new Error(`${this.dir} is closed`);
    if (this.byName.has(spec.name)) throw new Error(`a child ${spec.name} exists already`);
    const child = new Child({
      ...(this.opts.output === undefined ? {} : { output: this.opts.output }),
      ...spec,
      logFile: spec.logFile ?? path.join(this.logsDir, `${spec.name}.log`),
    });
    this.byName.set(spec.name, child);
    return child;
  }

  /** `add` and start its first life. */
  start(spec: Omit<ChildSpec, 'logFile'> & { readonly logFile?: string }): Child {
    const child = this.add(spec);
    child.start();
    return child;
  }

  child(name: string): Child {
    const c = this.byName.get(name);
    if (c === undefined) throw new Error(`no child ${name}`);
    return c;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** CPU seconds the group's running children have used so far. */
  cpuSeconds(): number {
    return this.children.reduce((sum, c) => sum + c.cpuSeconds(), 0);
  }

  /** Stops every child by PID (stopped ones resumed), waits for their exits, removes the directory unless kept. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.children.map((c) => c.stop(this.opts.stopSignal ?? 'SIGKILL', 10_000)));
    await Promise.all(this.children.map((c) => c.closeLog()));
    if (this.opts.keep !== true) {
      for (let i = 0; i < 5; i++) {
        if (await fsp.rm(this.dir, { recursive: true, force: true }).then(() => true, () => false)) break;
        await sleep(100);
      }
    }
    open.delete(this);
  }

  /** At exit: SIGKILLs every child still alive and removes the directory unless kept. */
  closeSync(): void {
    this.closed = true;
    for (const c of this.children) c.killSync();
    if (this.opts.keep !== true) {
      try {
        fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        /* best effort */
      }
    }
  }
}
