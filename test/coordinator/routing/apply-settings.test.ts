import { describe, expect, test } from 'vitest';
import { DEFAULT_CLUSTER_SETTINGS } from '../../../src/config/settings.js';
import { apply } from '../../../src/coordinator/routing/index.js';
import { applyOk, cmd, expectRejected, fresh, meta } from './helpers.js';

const update = (expectedVersion: number, settings: object) => cmd('updateSettings', { expectedVersion, settings } as never);

describe('updateSettings', () => {
  test('the initial settings are the cluster file’s, at version 1', () => {
    const state = fresh({ settings: { replicationFactor: 3 } });
    expect(state.config).toEqual({ version: 1, settings: { ...DEFAULT_CLUSTER_SETTINGS, replicationFactor: 3 } });
  });

  test('merges a partial change, leaving the other fields as they were, and bumps the version', () => {
    const before = fresh({ settings: { health: { probeIntervalMs: 300 } } });
    const { state, result } = applyOk(before, update(1, { health: { leaseMs: 2_000 }, replicationFactor: 3 }));
    expect(state.config.version).toBe(2);
    expect(state.config.settings.health).toEqual({ ...DEFAULT_CLUSTER_SETTINGS.health, probeIntervalMs: 300, leaseMs: 2_000 });
    expect(state.config.settings.replicationFactor).toBe(3);
    expect(result).toMatchObject({ subject: 'config', config: { version: 2 } });
    expect(state.events.items.at(-1)).toMatchObject({
      kind: 'settings-updated',
      message: 'settings version 1 → 2: health.leaseMs: 1000 → 2000; replicationFactor: 2 → 3',
    });
  });

  test('a stale version is refused', () => {
    const state = applyOk(fresh(), update(1, { replicationFactor: 3 })).state;
    expectRejected(state, update(1, { replicationFactor: 1 }), 'STALE_VERSION', /version 2, the command expected 1/);
  });

  test('the merged settings are validated as a whole; the error names the field', () => {
    const state = fresh();
    // Each value is fine on its own; together with the current interval it is not.
    const r = expectRejected(state, update(1, { health: { probeTimeoutMs: 5_000 } }), 'INVALID_SETTINGS');
    expect(r.field).toBe('settings.health.probeTimeoutMs');
    expect(expectRejected(state, update(1, { replicationFactor: 0 }), 'INVALID_COMMAND').field).toBe('settings.replicationFactor');
  });

  test('a change to the values already in force is a no-op', () => {
    const state = fresh();
    for (const patch of [{}, { replicationFactor: DEFAULT_CLUSTER_SETTINGS.replicationFactor }]) {
      const out = apply(state, update(1, patch), meta());
      expect(out.result).toMatchObject({ ok: true, changed: false, config: { version: 1 } });
      expect(out.state).toBe(state);
    }
  });
});
