import { describe, expect, it } from 'vitest';
import { TurnQueue } from '../../src/coordinator/turn-queue.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('TurnQueue', () => {
  it('runs at most perTurn jobs per turn of the event loop, in order, and a timer due meanwhile runs between two batches', async () => {
    const q = new TurnQueue({ perTurn: 3, maxQueued: 100 });
    const ran: string[] = [];
    // Each job busy for 2 ms: the timer (due after 1 ms) is due once the first batch has run.
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    for (let i = 0; i < 7; i++) expect(q.push(() => (busy(2), ran.push(`job${i}`)))).toBe(true);
    expect(q.length).toBe(7);
    setTimeout(() => ran.push('timer'), 0);
    // Nothing runs synchronously.
    expect(ran).toEqual([]);
    for (let i = 0; i < 10 && q.length > 0; i++) await turn();
    expect(ran.filter((r) => r.startsWith('job'))).toEqual(['job0', 'job1', 'job2', 'job3', 'job4', 'job5', 'job6']);
    // The timer ran right after the first batch, not behind all seven.
    expect(ran.indexOf('timer')).toBe(3);
    expect(q.length).toBe(0);
  });

  it('refuses a push beyond maxQueued, and takes pushes again once the queue drained', async () => {
    const q = new TurnQueue({ perTurn: 10, maxQueued: 2 });
    let count = 0;
    expect(q.push(() => count++)).toBe(true);
    expect(q.push(() => count++)).toBe(true);
    expect(q.push(() => count++)).toBe(false);
    await turn();
    expect(count).toBe(2);
    expect(q.push(() => count++)).toBe(true);
    await turn();
    expect(count).toBe(3);
  });

  it('a job that throws is reported and the others still run', async () => {
    const failures: unknown[] = [];
    const q = new TurnQueue({ perTurn: 5, maxQueued: 10, failed: (e) => failures.push(e) });
    let ran = 0;
    q.push(() => {
      throw new Error('boom');
    });
    q.push(() => ran++);
    await turn();
    expect(ran).toBe(1);
    expect(failures).toHaveLength(1);
  });
});
