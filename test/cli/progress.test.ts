import { describe, expect, it } from 'vitest';
import { createProgress, formatEta, progressBar } from '../../src/cli/progress.js';

describe('progress of a long operation', () => {
  it('redraws one line with a bar and an ETA on a terminal, and clears it at the end', () => {
    let out = '';
    let t = 0;
    const p = createProgress({ label: 'drain n1', tty: true, write: (s) => (out += s), nowMs: () => t, width: 10 });
    p.update(0, 10);
    t = 10_000;
    p.update(5, 10, '5 copies left');
    const lines = out.split('\r\x1b[2K').filter((l) => l !== '');
    expect(lines).toEqual(['drain n1 [..........]   0%  0/10  ETA ?', 'drain n1 [#####.....]  50%  5/10  ETA 10s  5 copies left']);
    expect(out).not.toContain('\n');
    p.finish('done');
    expect(out.endsWith('\r\x1b[2Kdone\n')).toBe(true);
  });

  it('writes a plain line per change into a pipe, none for a repeat', () => {
    let out = '';
    const p = createProgress({ label: 'drain n1', tty: false, write: (s) => (out += s), nowMs: () => 1500 });
    p.update(1, 4);
    p.update(1, 4);
    p.update(4, 4, 'all moved');
    p.finish();
    expect(out).toBe('drain n1: 1/4 (25%), 0.0 s\ndrain n1: 4/4 (100%) all moved, 0.0 s\n');
  });

  it('formats bars and times', () => {
    expect(progressBar(3, 0, 4)).toBe('[####] 100%');
    expect(progressBar(7, 5, 4)).toBe('[####] 100%');
    expect(formatEta(61_000)).toBe('1m01s');
    expect(formatEta(3 * 3_600_000 + 60_000)).toBe('3h01m');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('?');
  });
});
