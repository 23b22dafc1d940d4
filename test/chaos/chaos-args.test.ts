import { describe, expect, it } from 'vitest';
import { parseChaosArgs } from '../../scripts/chaos/args.js';

describe('chaos arguments', () => {
  it('reads every flag, with a random seed when none is given', () => {
    expect(parseChaosArgs(['--duration', '60', '--seed', '7', '--history', 'h.jsonl', '--no-partitions', '--disk-faults', '--keep'], () => 1)).toEqual({
      duration: 60,
      seed: 7,
      history: 'h.jsonl',
      partitions: false,
      diskFaults: true,
      keep: true,
    });
    expect(parseChaosArgs([], () => 99)).toEqual({ duration: 120, seed: 99, partitions: true, diskFaults: false, keep: false });
  });

  it('refuses out-of-bound values and unknown flags, naming the flag', () => {
    expect(() => parseChaosArgs(['--duration', '5'], () => 1)).toThrow(/--duration/);
    expect(() => parseChaosArgs(['--duration', 'ten'], () => 1)).toThrow(/--duration/);
    expect(() => parseChaosArgs(['--seed', '-1'], () => 1)).toThrow(/--seed/);
    expect(() => parseChaosArgs(['--seed', '4294967296'], () => 1)).toThrow(/--seed/);
    expect(() => parseChaosArgs(['--seed'], () => 1)).toThrow(/--seed: expected a value/);
    expect(() => parseChaosArgs(['--fast'], () => 1)).toThrow(/unknown argument "--fast"/);
  });
});
