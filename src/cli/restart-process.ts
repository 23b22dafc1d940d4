/**
 * The operator's restart command of a rolling upgrade (`--restart 'CMD {id}'`),
 * run through the shell with `{id}` replaced by the process's id (ids are
 * letters, digits, `_` and `-`: nothing the shell would read specially).
 * Its output goes to our stderr; it is killed (by its own pid) when it runs
 * longer than allowed.
 */
import { spawn } from 'node:child_process';

export const ID_PLACEHOLDER = '{id}';

export interface RestartOutcome {
  readonly ok: boolean;
  /** Why not, in words (the exit code or signal, or the time limit). */
  readonly why: string;
}

export function restartCommandFor(template: string, id: string): string {
  return template.replaceAll(ID_PLACEHOLDER, id);
}

export function runRestart(command: string, timeoutMs: number, writeErr: (text: string) => void): Promise<RestartOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => writeErr(b.toString()));
    child.stderr.on('data', (b: Buffer) => writeErr(b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, why: `could not run it: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ok: true, why: '' });
      else resolve({ ok: false, why: signal === 'SIGKILL' ? `it ran longer than ${timeoutMs} ms` : `it exited with ${code ?? signal}` });
    });
  });
}
