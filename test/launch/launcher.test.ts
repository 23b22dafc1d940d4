// The launcher with small real children (node -e …): lives, lines, signals, readiness, and a group's teardown.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../../scripts/launch/child.js';
import { LaunchGroup } from '../../scripts/launch/group.js';
import { waitFor } from '../support/wait-for.js';

const groups: LaunchGroup[] = [];
afterEach(async () => {
  await Promise.all(groups.splice(0).map((g) => g.close()));
});

async function group(opts: { keep?: boolean; output?: 'lines' | 'file' } = {}): Promise<LaunchGroup> {
  const g = await LaunchGroup.create({ prefix: 'torua-launch-test-', ...opts });
  groups.push(g);
  return g;
}

/** A node child running `code`. */
const node = (name: string, code: string) => ({ name, command: process.execPath, args: ['-e', code] });

describe('Child', () => {
  it('keeps every life in one log file and the tail, tells listeners each line and its stream, and records each exit', async () => {
    const g = await group();
    const c = g.add(node('talker', "console.log('to stdout'); console.error('to stderr'); process.exit(Number(process.env.CODE))"));
    const seen: string[] = [];
    c.onLine((line, stream) => seen.push(`${stream}:${line}`));
    c.start({ env: { CODE: '3' } });
    expect(await c.exited).toEqual({ exitCode: 3, signal: undefined });
    expect(c.state).toBe('down');
    c.start({ env: { CODE: '0' } });
    expect(await c.exited).toEqual({ exitCode: 0, signal: undefined });
    expect(c.lives).toBe(2);
    expect(c.lastExit?.exitCode).toBe(0);
    expect(seen.filter((l) => l === 'stdout:to stdout')).toHaveLength(2);
    expect(seen.filter((l) => l === 'stderr:to stderr')).toHaveLength(2);
    await c.closeLog();
    const log = fs.readFileSync(c.spec.logFile, 'utf8');
    expect(log.match(/^--- life \d: pid \d+: /gm)).toHaveLength(2);
    expect(log).toContain('--- life 1: exited (code 3, signal undefined)');
    expect(c.tail()).toContain('--- life 2: exited (code 0, signal undefined)');
    expect(c.tail().filter((l) => l === 'to stdout')).toHaveLength(2);
  });

  it('follows SIGSTOP and SIGCONT; stop() resumes a stopped child so it can act on SIGTERM', async () => {
    const g = await group();
    const c = g.start(node('sleeper', "process.on('SIGTERM', () => { console.log('bye'); process.exit(7); }); setInterval(() => {}, 1000); console.log('up');"));
    await c.waitReady('it to say up', () => c.tail().includes('up'));
    c.signal('SIGSTOP');
    expect(c.state).toBe('stopped');
    expect(fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('T');
    const { exit, forced } = await c.stop('SIGTERM', 10_000);
    expect(forced).toBe(false);
    expect(exit).toEqual({ exitCode: 7, signal: undefined });
    expect(c.tail()).toContain('bye');
  });

  it('SIGKILLs a child that ignores the signal once the grace is over', async () => {
    const g = await group();
    const c = g.start(node('stubborn', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up');"));
    await c.waitReady('it to say up', () => c.tail().includes('up'));
    const { exit, forced } = await c.stop('SIGTERM', 300);
    expect(forced).toBe(true);
    expect(exit.signal).toBe('SIGKILL');
  });

  it('waitReady fails at once, with the last lines, when the life exits before it is ready', async () => {
    const g = await group();
    const c = g.start(node('quitter', "console.error('cannot start: port in use'); process.exit(2)"));
    const started = performance.now();
    await expect(c.waitReady('it to answer', () => false, { timeoutMs: 20_000 })).rejects.toThrow(/quitter exited \(code 2, signal undefined\) while waiting for it to answer:[\s\S]*cannot start: port in use/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("with output 'file' writes straight into the log file and reads the tail from it", async () => {
    const g = await group({ output: 'file' });
    const c = g.start(node('quiet', "for (let i = 0; i < 1000; i++) console.log('line ' + i)"));
    await c.exited;
    expect(c.tail(1)).not.toEqual([]);
    expect(c.tail(1000)).toContain('line 999');
    expect(fs.readFileSync(c.spec.logFile, 'utf8')).toContain('line 0\n');
    expect(() => c.onLine(() => undefined)).toThrow(/straight to/);
  });
});

describe('LaunchGroup', () => {
  it('close() kills every child by PID, stopped ones too, waits for their exits and removes its directory', async () => {
    const g = await group();
    const a = g.start(node('a', 'setInterval(() => {}, 1000)'));
    const b = g.start(node('b', 'setInterval(() => {}, 1000)'));
    await waitFor('both running', () => a.cpuSeconds() >= 0 && fs.existsSync(`/proc/${b.pid}`));
    b.signal('SIGSTOP');
    const pids = [a.pid!, b.pid!];
    await g.close();
    expect(pids.filter(pidAlive)).toEqual([]);
    expect([a.state, b.state]).toEqual(['down', 'down']);
    expect(fs.existsSync(g.dir)).toBe(false);
    expect(() => g.add(node('late', ''))).toThrow(/closed/);
  });

  it('keeps its directory and logs when asked', async () => {
    const g = await group({ keep: true });
    const c = g.start(node('kept', "console.log('still here')"));
    await c.exited;
    await g.close();
    try {
      expect(fs.readFileSync(path.join(g.dir, 'logs', 'kept.log'), 'utf8')).toContain('still here');
    } finally {
      fs.rmSync(g.dir, { recursive: true, force: true });
    }
  });
});
