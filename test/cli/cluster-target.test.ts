import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/cli/cluster-target.js';

const repo = path.resolve(import.meta.dirname, '../..');
const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-target-'));
afterAll(() => fs.rmSync(empty, { recursive: true, force: true }));

describe('which coordinators a command talks to', () => {
  it('takes --coordinators as given, or the coordinators of --config, or of ./cluster.example.json', async () => {
    expect(await resolveTarget('status', { coordinators: '127.0.0.1:7001, http://127.0.0.1:7002' })).toEqual({
      source: '--coordinators',
      coordinators: [{ address: '127.0.0.1:7001' }, { address: '127.0.0.1:7002' }],
    });
    const example = await resolveTarget('status', {}, repo);
    expect(example.source).toBe('cluster.example.json');
    expect(example.coordinators).toEqual([
      { id: 'c1', address: '127.0.0.1:7001' },
      { id: 'c2', address: '127.0.0.1:7002' },
      { id: 'c3', address: '127.0.0.1:7003' },
    ]);
    expect(await resolveTarget('status', { config: 'cluster.example.json' }, repo)).toEqual(example);
  });

  it('refuses what it cannot use, with exit code 2', async () => {
    const cases: [Parameters<typeof resolveTarget>[1], string, RegExp][] = [
      [{}, empty, /^status: which cluster\? Give --config FILE or --coordinators HOST:PORT,… \(there is no cluster\.example\.json here\)$/],
      [{ config: 'a.json', coordinators: 'h:1' }, repo, /not both/],
      [{ coordinators: 'h:1,nope' }, repo, /--coordinators: expected host:port, got "nope"/],
      [{ coordinators: ' , ' }, repo, /--coordinators: expected host:port/],
      [{ config: 'missing.json' }, empty, /^status: missing\.json: cannot read the cluster file: no such file$/],
    ];
    for (const [flags, cwd, message] of cases) {
      const err = await resolveTarget('status', flags, cwd).catch((e: unknown) => e);
      expect(err, JSON.stringify(flags)).toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
    }
  });
});
