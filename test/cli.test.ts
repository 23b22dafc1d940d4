import { describe, expect, it } from 'vitest';
import { EXIT_USAGE, run, USAGE } from '../src/cli/run.js';

function torua(...argv: string[]) {
  let out = '';
  let err = '';
  const code = run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  if (typeof code !== 'number') throw new Error(`torua ${argv.join(' ')} is asynchronous; use toruaAsync`);
  return { code, out, err };
}

async function toruaAsync(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('torua command', () => {
  it('prints the commands with --help', () => {
    for (const argv of [['--help'], ['-h'], ['help'], []]) {
      const r = torua(...argv);
      expect(r.code).toBe(0);
      expect(r.out).toBe(USAGE);
    }
    expect(USAGE).toMatch(/coordinator[\s\S]*node[\s\S]*cluster up[\s\S]*status[\s\S]*kv/);
  });

  it('says which commands are not implemented yet, with exit code 2', () => {
    const cases: [string[], string][] = [
      [['node', '--config', 'c.json', '--id', 'n1'], 'node'],
      [['cluster', 'up', '--config', 'cluster.example.json'], 'cluster up'],
      [['status'], 'status'],
      [['kv', 'get', 'k'], 'kv get'],
    ];
    for (const [argv, name] of cases) {
      const r = torua(...argv);
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.out).toBe('');
      expect(r.err).toBe(`torua ${name}: not implemented yet (arrives with the coordinator replica issue)\n`);
    }
  });

  it('refuses to start a coordinator without --config and --id, or with a file that does not parse', async () => {
    const missing = await toruaAsync('coordinator', '--id', 'c1');
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toMatch(/--config FILE and --id ID are required/);
    const absent = await toruaAsync('coordinator', '--config', '/nonexistent/cluster.json', '--id', 'c1');
    expect(absent.code).toBe(EXIT_USAGE);
    expect(absent.err).toMatch(/\/nonexistent\/cluster\.json/);
    const unknown = await toruaAsync('coordinator', '--config', 'cluster.example.json', '--id', 'c9');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/c9/);
    expect(unknown.err).toMatch(/c1/);
  });

  it('rejects unknown commands, subcommands and options with the usage', () => {
    for (const argv of [['frobnicate'], ['cluster'], ['cluster', 'down'], ['kv', 'scan'], ['status', '--bogus']]) {
      const r = torua(...argv);
      expect(r.code, argv.join(' ')).toBe(EXIT_USAGE);
      expect(r.err).toMatch(/^torua: /);
      expect(r.err).toContain(USAGE);
    }
  });
});
