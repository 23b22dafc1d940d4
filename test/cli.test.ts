import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { EXIT_USAGE, run, USAGE } from '../src/cli/run.js';

/** An address nothing listens on: a port the OS handed out, released again. */
async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

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
    expect(USAGE).toMatch(/coordinator[\s\S]*node[\s\S]*cluster up[\s\S]*status[\s\S]*leader transfer[\s\S]*members add[\s\S]*members remove[\s\S]*kv/);
  });

  it('checks the flags of status, cluster up, leader transfer and members before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [['cluster', 'up'], /^torua cluster up: --config FILE is required\n$/],
      [['cluster', 'up', '--config', '/nonexistent/cluster.json'], /\/nonexistent\/cluster\.json: cannot read the cluster file/],
      [['cluster', 'up', '--config', 'cluster.example.json', '--log-level', 'loud'], /--log-level: expected one of/],
      [['status', '--config', 'cluster.example.json', '--coordinators', '127.0.0.1:7001'], /^torua status: give --config FILE or --coordinators A,B,C, not both\n$/],
      [['status', '--coordinators', 'nohost'], /--coordinators: expected host:port, got "nohost"/],
      [['leader', 'transfer'], /^torua leader transfer: --to ID is required/],
      [['members', 'add', '--id', 'c4', '--host', '127.0.0.1', '--api-port', '70000'], /^torua members add: --api-port: expected a port \(1-65535\), got "70000"; --peer-port P is required\n$/],
      [['members', 'remove'], /^torua members remove: --id ID is required\n$/],
    ];
    for (const [argv, message] of cases) {
      const r = await toruaAsync(...argv);
      expect(r.code, argv.join(' ')).toBe(EXIT_USAGE);
      expect(r.out).toBe('');
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });

  it('status shows a replica that does not answer as down, and exits 3 when no replica answers', async () => {
    const dead = await deadAddress();
    const r = await toruaAsync('status', '--coordinators', dead);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^cluster: no answer \(cluster\.info: no coordinator could serve it after \d+ attempts/);
    expect(r.out).toMatch(new RegExp(`^\\?\\s+${dead}\\s+down\\s.*connection refused$`, 'm'));
    const json = await toruaAsync('status', '--json', '--coordinators', dead);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out)).toMatchObject({
      ok: false,
      command: 'status',
      exit_code: 3,
      error: { code: 'UNAVAILABLE' },
      data: { cluster: null, replicas: [{ address: dead, ok: false, error: 'connection refused', id: null }] },
    });
  });

  it('admin commands print the error and its code, and exit 3, when no coordinator answers', async () => {
    const dead = await deadAddress();
    const r = await toruaAsync('leader', 'transfer', '--to', 'c2', '--coordinators', dead);
    expect(r.code).toBe(3);
    expect(r.err).toBe(r.err.split('\n')[0] + '\n');
    expect(r.err).toMatch(/^torua leader transfer: members\.transferLeader: no coordinator could serve it after \d+ attempts in [\d.]+ s \(/);
    expect(r.err).toContain(`(${dead}: connection refused) (UNAVAILABLE)`);
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

  it('rejects unknown commands, subcommands and options with the usage', async () => {
    for (const argv of [['frobnicate'], ['cluster'], ['cluster', 'down'], ['kv', 'scan'], ['status', '--bogus'], ['leader'], ['leader', 'elect'], ['members'], ['members', 'list']]) {
      const r = await toruaAsync(...argv);
      expect(r.code, argv.join(' ')).toBe(EXIT_USAGE);
      expect(r.err).toMatch(/^torua: /);
      expect(r.err).toContain(USAGE);
    }
  });
});
