/** `torua kv`: usage errors (exit 2) before anything connects, and the commands against in-process fakes. */
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import type { KvIo } from '../../src/cli/kv-command.js';
import { deadAddress, startFakeCluster } from '../client/kv-fake-cluster.js';

interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function torua(argv: string[], extra: Partial<KvIo> = {}): Promise<Ran> {
  let out = '';
  let err = '';
  const io: KvIo = { out: (t) => (out += t), err: (t) => (err += t), ...extra };
  const code = await run(argv, io);
  return { code, out, err };
}

describe('torua kv: usage', () => {
  it('refuses missing and extra arguments, stray flags and bad keys with exit 2, before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [['kv', 'get'], /^torua kv get: expected KEY, got nothing\n/],
      [['kv', 'get', 'a', 'b'], /^torua kv get: expected KEY, got 2 arguments\n/],
      [['kv', 'put', 'k'], /^torua kv put: expected KEY and VALUE, got 1 argument\n/],
      [['kv', 'del'], /^torua kv del: expected KEY/],
      [['kv', 'get', 'k', '--follow'], /^torua kv get: --follow does not apply here\n/],
      [['kv', 'get', ''], /^torua kv get: key: expected 1 to 1024 bytes of UTF-8, got an empty key\n/],
      [['kv', 'put', 'x'.repeat(1_100), 'v'], /^torua kv put: key: expected at most 1024 bytes/],
      [['kv', 'get', 'k', '--config', 'cluster.example.json', '--coordinators', '127.0.0.1:7001'], /give --config FILE or --coordinators A,B,C, not both/],
      [['kv', 'get', 'k', '--coordinators', 'nohost'], /--coordinators: expected host:port, got "nohost"/],
      [['kv', 'get', 'k', '--config', '/nonexistent/cluster.json'], /cannot read the cluster file/],
    ];
    for (const [argv, message] of cases) {
      const r = await torua(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
      expect(r.err).toContain('Usage: torua kv get KEY');
      expect(r.out).toBe('');
    }
  });

  it('answers a missing or unknown subcommand with the general usage', async () => {
    for (const argv of [['kv'], ['kv', 'scan']]) {
      const r = await torua(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^torua: kv: /);
    }
  });
});

describe('torua kv: against a cluster', () => {
  it('puts, gets (the raw value and a newline), deletes; a missing key is exit 1', async () => {
    const cluster = await startFakeCluster();
    const at = ['--coordinators', cluster.coordinator];
    expect(await torua(['kv', 'put', 'a', '1', ...at])).toEqual({ code: 0, out: '', err: '' });
    expect(await torua(['kv', 'get', 'a', ...at])).toEqual({ code: 0, out: '1\n', err: '' });
    expect(await torua(['kv', 'put', 'user@example.com', 'a b', ...at])).toMatchObject({ code: 0 });
    expect(await torua(['kv', 'get', 'user@example.com', ...at])).toMatchObject({ code: 0, out: 'a b\n' });
    expect(await torua(['kv', 'del', 'a', ...at])).toEqual({ code: 0, out: '', err: '' });
    expect(await torua(['kv', 'get', 'a', ...at])).toEqual({ code: 1, out: '', err: 'not found: a\n' });
    expect(await torua(['kv', 'delete', 'user@example.com', ...at])).toMatchObject({ code: 0 });
  });

  it('reads VALUE - from stdin, and writes the raw bytes where it can', async () => {
    const cluster = await startFakeCluster();
    const at = ['--coordinators', cluster.coordinator];
    const bytes = Uint8Array.from([0xff, 0x00, 0x0a]);
    expect(await torua(['kv', 'put', '数字', '-', ...at], { readStdin: async () => bytes })).toMatchObject({ code: 0 });
    const written: Uint8Array[] = [];
    const r = await torua(['kv', 'get', '数字', ...at], { outBytes: (b) => written.push(b) });
    expect(r).toEqual({ code: 0, out: '\n', err: '' });
    expect(Buffer.concat(written)).toEqual(Buffer.from(bytes));
  });

  it('prints the cluster refusal with its code, exit 1', async () => {
    const cluster = await startFakeCluster();
    cluster.primaryOf('k').always = { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'value: more than 1 bytes', limitBytes: 1 } } };
    const r = await torua(['kv', 'put', 'k', 'too long', '--coordinators', cluster.coordinator]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('torua kv put: PUT "k": value: more than 1 bytes (PAYLOAD_TOO_LARGE)\n');
  });

  it('fails with exit 3 (unreachable) and says so when no coordinator answers', async () => {
    const r = await torua(['kv', 'get', 'k', '--coordinators', await deadAddress()]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^torua kv get: GET "k": gave up after 5 attempts .*coordinators: /);
  });
});
