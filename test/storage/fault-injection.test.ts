// The TORUA_FAULTS switch: parsing (a bad value names its field) and the seeded decisions.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { DiskFaults, FAULT_CRASH_EXIT_CODE, parseFaultSwitch, type FaultSettings } from '../../src/storage/index.js';

const noSeed = (): number => {
  throw new Error('a seed was drawn though the switch names one');
};

function settings(over: Partial<FaultSettings> = {}): FaultSettings {
  return { syncFailRate: 0, syncDelayRate: 1, syncDelayMs: [0, 0], crashBetweenPersistAndSendRate: 0, onlyWhenLeader: false, seed: 7, ...over };
}

function faults(s: FaultSettings, crashes: { n: number } = { n: 0 }): DiskFaults {
  return new DiskFaults(s, { logger: silentLogger, crash: () => void crashes.n++, sleep: () => Promise.resolve() });
}

function errorOf(text: string): ConfigError {
  try {
    parseFaultSwitch(text, () => 1);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`${text} was accepted`);
}

describe('the TORUA_FAULTS switch', () => {
  it('is off when unset or empty', () => {
    expect(parseFaultSwitch(undefined, noSeed)).toBeUndefined();
    expect(parseFaultSwitch('', noSeed)).toBeUndefined();
    expect(parseFaultSwitch('  ', noSeed)).toBeUndefined();
  });

  it('reads the documented example, with defaults for what it leaves out', () => {
    const text = '{"syncFailRate":0.05,"syncDelayMs":[0,200],"crashBetweenPersistAndSendRate":0.01,"seed":7,"onlyWhenLeader":true}';
    expect(parseFaultSwitch(text, noSeed)).toEqual({ syncFailRate: 0.05, syncDelayRate: 1, syncDelayMs: [0, 200], crashBetweenPersistAndSendRate: 0.01, seed: 7, onlyWhenLeader: true });
    expect(parseFaultSwitch('{}', () => 42)).toEqual(settings({ seed: 42 }));
  });

  it.each([
    ['{"syncFailRate":1.5}', 'TORUA_FAULTS: syncFailRate: expected a number from 0 to 1, got 1.5'],
    ['{"syncFailRate":"high"}', 'TORUA_FAULTS: syncFailRate: expected a number from 0 to 1, got "high"'],
    ['{"syncDelayMs":[300,200]}', 'TORUA_FAULTS: syncDelayMs[0]: expected at most max (200), got 300'],
    ['{"syncDelayMs":200}', 'TORUA_FAULTS: syncDelayMs: expected [min, max]'],
    ['{"syncDelayMs":[0,600000]}', 'TORUA_FAULTS: syncDelayMs[1]: expected an integer from 0 to 30000, got 600000'],
    ['{"crashBetweenPersistAndSendRate":-0.1}', 'TORUA_FAULTS: crashBetweenPersistAndSendRate: expected a number from 0 to 1'],
    ['{"seed":1.5}', 'TORUA_FAULTS: seed: expected an integer from 0 to 4294967295'],
    ['{"onlyWhenLeader":"yes"}', 'TORUA_FAULTS: onlyWhenLeader: expected true or false'],
    ['{"syncFailrate":0.1}', 'TORUA_FAULTS: syncFailrate: unknown key (the keys here are syncFailRate,'],
    ['[0.1]', 'TORUA_FAULTS: expected an object'],
    ['{syncFailRate:0.1}', 'TORUA_FAULTS: expected a JSON object'],
  ])('refuses %s, naming the field', (text, message) => {
    const e = errorOf(text);
    expect(e.message).toContain(message);
    expect(e.payload).toMatchObject({ file: 'TORUA_FAULTS' });
  });

  it('refuses a value too long to be a switch', () => {
    expect(errorOf(`{"seed":1${' '.repeat(2_000)}}`).message).toContain('expected at most 1000 characters');
  });
});

/** The decisions of `n` synced writes and `n` persisted batches with messages. */
function decisions(f: DiskFaults, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = f.nextSync();
    out.push(`${s.fail ? 'F' : '-'}${s.delayMs}${f.nextCrash() ? 'C' : ''}`);
  }
  return out;
}

describe('seeded fault decisions', () => {
  const mixed = settings({ syncFailRate: 0.2, syncDelayRate: 0.5, syncDelayMs: [10, 300], crashBetweenPersistAndSendRate: 0.1 });

  it('are the same for the same seed and differ for another', () => {
    const a = decisions(faults(mixed), 500);
    expect(decisions(faults(mixed), 500)).toEqual(a);
    expect(decisions(faults({ ...mixed, seed: 8 }), 500)).not.toEqual(a);
  });

  it('follow the rates and stay in the delay range', () => {
    const f = faults(mixed);
    const n = 4_000;
    let failed = 0;
    let delayed = 0;
    let crashed = 0;
    for (let i = 0; i < n; i++) {
      const s = f.nextSync();
      if (s.fail) failed++;
      if (s.delayMs > 0) {
        delayed++;
        expect(s.delayMs).toBeGreaterThanOrEqual(10);
        expect(s.delayMs).toBeLessThanOrEqual(300);
      }
      if (s.fail) expect(s.delayMs).toBe(0);
      if (f.nextCrash()) crashed++;
    }
    // Seeded, so these are fixed numbers; the bounds only say they match the rates.
    expect(failed / n).toBeGreaterThan(0.17);
    expect(failed / n).toBeLessThan(0.23);
    expect(delayed / n).toBeGreaterThan(0.8 * 0.5 - 0.04);
    expect(delayed / n).toBeLessThan(0.8 * 0.5 + 0.04);
    expect(crashed / n).toBeGreaterThan(0.08);
    expect(crashed / n).toBeLessThan(0.12);
  });

  it('with onlyWhenLeader, inject nothing while following, and what the seed decided once leading', () => {
    const f = faults({ ...mixed, onlyWhenLeader: true });
    expect(decisions(f, 200).every((d) => d === '-0')).toBe(true);
    f.setLeading(true);
    const leading = decisions(f, 200);
    // The draws went on while following: leading picks up the seed's sequence where it is, not from the start.
    const always = faults(mixed);
    decisions(always, 200);
    expect(leading).toEqual(decisions(always, 200));
    expect(leading.some((d) => d !== '-0')).toBe(true);
  });

  it('a sync-failure decision fails the write without calling it; a delayed one writes first', async () => {
    const failing = faults(settings({ syncFailRate: 1 }));
    let written = 0;
    await expect(failing.syncedWrite(async () => void written++)).rejects.toThrow(/injected sync failure/);
    expect(written).toBe(0);
    expect(failing.injected.failedSyncs).toBe(1);

    const slept: number[] = [];
    const slow = new DiskFaults(settings({ syncDelayMs: [50, 50] }), { logger: silentLogger, crash: () => undefined, sleep: async (ms) => void slept.push(ms) });
    await slow.syncedWrite(async () => void written++);
    expect(written).toBe(1);
    expect(slept).toEqual([50]);
  });

  it('crashes only after a synced batch that has messages to send', () => {
    const crashes = { n: 0 };
    const f = faults(settings({ crashBetweenPersistAndSendRate: 1 }), crashes);
    f.afterPersist({ synced: false, messages: 3 });
    f.afterPersist({ synced: true, messages: 0 });
    expect(crashes.n).toBe(0);
    f.afterPersist({ synced: true, messages: 3 });
    expect(crashes.n).toBe(1);
    expect(f.warning()).toContain('DISK FAULT INJECTION IS ON');
    expect(f.warning()).toContain(`code ${FAULT_CRASH_EXIT_CODE}`);
  });
});
