import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFinalReadLine, formatHistoryLine, type HistoryOp } from '../../scripts/chaos/history.js';
import { checkHistoryCommand, EXIT_OK, EXIT_UNDECIDED, EXIT_USAGE, EXIT_VIOLATION } from '../../scripts/chaos/linearizability/index.js';
import { get, put } from './ops.js';
import { simulateRegisterRun } from './register-sim.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'torua-check-history-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
async function historyFile(ops: readonly HistoryOp[]): Promise<string> {
  const file = path.join(dir, `h${files++}.jsonl`);
  await writeFile(file, ops.map((o) => `${formatHistoryLine(o)}\n`).join(''));
  return file;
}

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await checkHistoryCommand(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err, last: out.trimEnd().split('\n').at(-1) };
}

const legal = [put(1, 'a', 'v1', [0, 1]), get(2, 'a', 'v1', [2, 3]), put(1, 'b', 'w1', [0, 5]), get(2, 'b', null, [1, 2])];
const stale = (key: string) => [put(1, key, 'v1', [0, 1]), put(1, key, 'v2', [2, 3]), get(2, key, 'v1', [4, 5])];

describe('npm run check-history', () => {
  it('says yes with exit 0 for a linearizable history', async () => {
    const r = await run(await historyFile(legal));
    expect(r).toMatchObject({ code: EXIT_OK, out: 'check-history: linearizable=yes keys=2 ops=4\n' });
  });

  it('says no with exit 1, naming the key, the reason and the operations', async () => {
    const r = await run(await historyFile([...legal, ...stale('k7')]));
    expect(r.code).toBe(EXIT_VIOLATION);
    expect(r.out).toContain('key k7: NOT LINEARIZABLE: get k7 by client 2 at [4.0, 5.0] returned v1, but v1 was overwritten by put v2 (client 1, completed 3.0)');
    expect(r.out).toContain(`    ${formatHistoryLine(stale('k7')[1]!)}\n`);
    expect(r.last).toBe('check-history: linearizable=no keys=3 ops=7');
  });

  it('prints the first violations only when told to', async () => {
    const r = await run(await historyFile([...stale('x'), ...stale('y'), ...stale('z')]), '--show', '1');
    expect(r.out.match(/NOT LINEARIZABLE/g)).toHaveLength(1);
    expect(r.out).toContain('… and 2 more keys that are not linearizable\n');
    expect(r.code).toBe(EXIT_VIOLATION);
  });

  it('says unknown with exit 2 when a key hits a bound', async () => {
    const r = await run(await historyFile(legal), '--max-states', '1');
    expect(r.code).toBe(EXIT_UNDECIDED);
    expect(r.out).toMatch(/^key [ab]: unknown \(too large: 1 states explored over 2 operations\)$/m);
    expect(r.last).toBe('check-history: linearizable=unknown keys=2 ops=4');
  });

  it('checks the final reads for lost acknowledged writes with --final', async () => {
    const finals = path.join(dir, 'final.jsonl');
    await writeFile(finals, [formatFinalReadLine({ key: 'a', value: null }), formatFinalReadLine({ key: 'b', value: 'w1' })].join('\n'));
    const r = await run(await historyFile(legal), '--final', finals);
    expect(r.code).toBe(EXIT_VIOLATION);
    expect(r.out).toContain('key a: LOST WRITE: the final read returned not found, but the last acknowledged write was put v1 (client 1, completed 1.0)\n');
    expect(r.last).toBe('check-history: linearizable=yes keys=2 ops=4 lost=1');
  });

  it('refuses bad input and bad usage with exit 3, naming the line', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, `${formatHistoryLine(legal[0]!)}\n{"client": 1}\n`);
    const r = await run(bad);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(/^check-history: invalid history: line 2: op: expected one of "put", "get", "delete", but it is missing/);
    expect((await run()).err).toMatch(/expected one history file, got 0\nusage: npm run check-history/);
    expect((await run(path.join(dir, 'missing.jsonl'))).err).toMatch(/^check-history: cannot read the history .*missing\.jsonl/);
    expect((await run(bad, '--max-states', '0')).code).toBe(EXIT_USAGE);
  });

  it('decides a run of 100,000 operations over 50 keys from 10 clients', async () => {
    const { history, finalValues } = simulateRegisterRun({ seed: 7, clients: 10, opsPerClient: 10_000, keys: 50, unknownRate: 0.05, failRate: 0.02 });
    const finals = path.join(dir, 'big-final.jsonl');
    await writeFile(finals, [...finalValues].map(([key, value]) => `${formatFinalReadLine({ key, value })}\n`).join(''));
    const r = await run(await historyFile(history), '--final', finals);
    expect(r.last).toBe('check-history: linearizable=yes keys=50 ops=100000 lost=0');
    expect(r.code).toBe(EXIT_OK);
  }, 60_000);
});
