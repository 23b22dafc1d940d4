/**
 * Every operator command of `torua` through the real binary (dist/) against
 * real processes: nodes, shards, events (listing, --since, --follow), node
 * drain --wait and node remove, status, leader transfer, rebalance; each
 * config get|set, explain, plan, node maintenance, node evacuate and
 * snapshot save; each
 * with its table and with `--json` in the one documented shape
 * (`{ok, command, data}` / `{ok: false, command, exit_code, error}`), and
 * the documented exit codes. Also `--version`, `npx torua`, a global install
 * and the bash completion script.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { MAIN_JS, REPO_ROOT, useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';
import { startPlacedCluster } from '../support/placed-cluster.js';

const clusters = useClusters();
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function torua(args: readonly string[], opts: { cwd?: string } = {}): Promise<Run> {
  const r = await execa(process.execPath, [MAIN_JS, ...args], { reject: false, stdin: 'ignore', cwd: opts.cwd ?? os.tmpdir(), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 90_000 });
  return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
}

const coordinatorsOf = (h: Cluster): string => h.members.map((m) => `${m.host}:${m.apiPort}`).join(',');

/** The --json document of a successful command: the documented envelope around `data`. */
function jsonData(r: Run, command: string): any {
  expect(r.code, r.err).toBe(0);
  const doc = JSON.parse(r.out);
  expect(Object.keys(doc).sort()).toEqual(['command', 'data', 'ok']);
  expect(doc).toMatchObject({ ok: true, command });
  return doc.data;
}

/** A table: a header of upper-case column names, columns aligned (every row's cells start where the header's do). */
function tableRows(text: string, header: readonly string[]): string[][] {
  const lines = text.trimEnd().split('\n');
  const head = lines[0] ?? '';
  const starts = header.map((h) => head.indexOf(h));
  expect(starts.every((s, i) => s >= 0 && (i === 0 || s > starts[i - 1]!)), `header ${head}`).toBe(true);
  return lines.slice(1).map((line) => starts.map((s, i) => line.slice(s, i + 1 < starts.length ? starts[i + 1] : undefined).trim()));
}

function startCluster(name: string): Promise<Cluster> {
  return startPlacedCluster(clusters.create, { name, nodes: 3, shards: 8, replicationFactor: 2 });
}

describe('torua commands through the real binary (real processes)', () => {
  test('nodes, shards, events, status, leader transfer, rebalance: tables, --json, exit codes', async () => {
    const h = await startCluster('cli-read');
    const target = ['--coordinators', coordinatorsOf(h)];

    const nodes = await torua(['nodes', ...target]);
    expect(nodes.code, nodes.err).toBe(0);
    const nodeRows = tableRows(nodes.out, ['ID', 'ADDRESS', 'STATUS', 'PATH', 'SHARDS', 'PRIMARIES', 'USED/CAP', 'VERSION', 'ZONE', 'LAST PROBE', 'WHY']);
    expect(nodeRows.map((r) => r[0]).sort()).toEqual(['n1', 'n2', 'n3']);
    for (const r of nodeRows) expect(r[2]).toBe('healthy');
    expect(nodeRows.reduce((sum, r) => sum + Number(r[4]), 0)).toBe(16);
    expect(nodeRows.reduce((sum, r) => sum + Number(r[5]), 0)).toBe(8);
    const nodesJson = jsonData(await torua(['nodes', '--json', ...target]), 'nodes');
    expect(nodesJson.nodes.map((n: { id: string }) => n.id).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(nodesJson.nodes[0]).toHaveProperty('status', 'healthy');

    const shards = await torua(['shards', ...target]);
    expect(shards.code, shards.err).toBe(0);
    const shardRows = tableRows(shards.out, ['SHARD', 'PRIMARY', 'REPLICAS', 'IN SYNC', 'OUT OF SYNC', 'EPOCH', 'STATE', 'RECOVERY']);
    expect(shardRows.map((r) => Number(r[0]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const r of shardRows) expect(r[4]).toBe('-');
    const shardsJson = jsonData(await torua(['shards', '--json', ...target]), 'shards');
    expect(shardsJson.shards).toHaveLength(8);

    const events = await torua(['events', ...target]);
    expect(events.code, events.err).toBe(0);
    expect(events.out).toMatch(/^\s+1\s+\S+T\S+Z\s+node-registered\s+n\d registered/m);
    const eventsJson = jsonData(await torua(['events', '--json', ...target]), 'events');
    const last = eventsJson.last_seq as number;
    expect(eventsJson.events.at(-1).seq).toBe(last);
    const since = jsonData(await torua(['events', '--json', '--since', String(last - 2), ...target]), 'events');
    expect(since.events.map((e: { seq: number }) => e.seq)).toEqual([last - 1, last]);
    const bad = await torua(['events', '--since', 'yesterday', ...target]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--since');
    const unknownFlag = await torua(['nodes', '--frobnicate', ...target]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.err).toContain("'--frobnicate'");

    // kv with --json: the value as text and as base64; a missing key is exit 1 with NOT_FOUND.
    expect(jsonData(await torua(['kv', 'put', 'k1', 'héllo', '--json', ...target]), 'kv put')).toEqual({ key: 'k1' });
    expect(jsonData(await torua(['kv', 'get', 'k1', '--json', ...target]), 'kv get')).toEqual({ key: 'k1', value: 'héllo', value_base64: Buffer.from('héllo').toString('base64') });
    expect(jsonData(await torua(['kv', 'delete', 'k1', '--json', ...target]), 'kv delete')).toEqual({ key: 'k1' });
    const missing = await torua(['kv', 'get', 'k1', '--json', ...target]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out)).toEqual({ ok: false, command: 'kv get', exit_code: 1, error: { code: 'NOT_FOUND', message: 'not found: k1' } });

    const status = jsonData(await torua(['status', '--json', ...target]), 'status');
    expect(status.cluster.leader).toBe((await h.waitForLeader()).id);

    // Admin commands: the cluster's answer as data; a refusal exits 1 with the code.
    const leader = (await h.waitForLeader()).id;
    const to = h.voters.find((id) => id !== leader)!;
    expect(jsonData(await torua(['leader', 'transfer', '--to', to, '--json', ...target]), 'leader transfer')).toEqual({ leader: to });
    const rebalance = jsonData(await torua(['rebalance', '--json', ...target]), 'rebalance');
    expect(rebalance).toHaveProperty('steps');
    const refused = await torua(['node', 'remove', 'n9', '--json', ...target]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ ok: false, command: 'node remove', exit_code: 1, error: { code: 'NOT_FOUND' } });
    const refusedText = await torua(['node', 'remove', 'n9', ...target]);
    expect(refusedText.code).toBe(1);
    expect(refusedText.err).toMatch(/^torua node remove: .*n9.*\(NOT_FOUND\)$/);
  });

  test('events --follow streams new events until SIGINT; node drain --wait shows progress; node remove', async () => {
    const h = await startCluster('cli-ops');
    const target = ['--coordinators', coordinatorsOf(h)];
    const last = jsonData(await torua(['events', '--json', ...target]), 'events').last_seq as number;

    const follow = h.launch('events-follow', ['events', '--follow', '--json', '--since', String(last), ...target]);
    let streamed = '';
    follow.onLine((line, stream) => {
      if (stream === 'stdout') streamed += `${line}\n`;
    });
    // Changes made now arrive on the stream, each line one document of the documented shape.
    await waitFor('the stream to be open', async () => ((await h.get(h.voters[0]!, '/health')).status === 200 ? true : undefined));
    const marker = `follow-${Date.now()}`;
    await waitFor(
      'the label event on the stream',
      async () => {
        if (!streamed.includes(marker)) await h.request(h.voters[0]!, 'PUT', '/nodes/n1/labels', { labels: { zone: marker } });
        return streamed.includes(marker) ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1_000 },
    );
    const ended = await follow.stop('SIGINT');
    expect(ended.exit.exitCode).toBe(0);
    const docs = streamed.trim().split('\n').map((l) => JSON.parse(l));
    for (const d of docs) expect(d).toMatchObject({ ok: true, command: 'events', data: { seq: expect.any(Number), kind: expect.any(String) } });
    expect(docs.map((d) => d.data.seq)).toEqual([...docs.map((d) => d.data.seq)].sort((a, b) => a - b));
    expect(docs[0].data.seq).toBe(last + 1);

    // Drain with --wait into a pipe: plain progress lines on stderr, the result on stdout, exit 0 once the node is left.
    const drain = await torua(['node', 'drain', 'n3', '--wait', '--timeout', '120', ...target]);
    expect(drain.code, drain.err).toBe(0);
    expect(drain.err).toMatch(/^drain n3: \d+\/\d+ \(\d+%\)/m);
    expect(drain.err).not.toContain('\r');
    expect(drain.out).toMatch(/^n3 is drained/);
    const n3 = jsonData(await torua(['nodes', '--json', ...target]), 'nodes').nodes.find((n: { id: string }) => n.id === 'n3');
    expect(n3).toMatchObject({ status: 'left', shard_count: 0 });

    const removed = jsonData(await torua(['node', 'remove', 'n3', '--json', ...target]), 'node remove');
    expect(removed).toMatchObject({ id: 'n3' });
    const after = jsonData(await torua(['nodes', '--json', ...target]), 'nodes');
    expect(after.nodes.map((n: { id: string }) => n.id).sort()).toEqual(['n1', 'n2']);
  });

  test('config get|set --wait, explain, plan, node maintenance on|off, node evacuate --wait, snapshot save: --json, progress, refusals', async () => {
    const h = await startPlacedCluster(clusters.create, { name: 'cli-ops', nodes: 4, shards: 8, replicationFactor: 2 });
    const target = ['--coordinators', coordinatorsOf(h)];

    const before = jsonData(await torua(['config', 'get', '--json', ...target]), 'config get');
    expect(Object.keys(before.nodes).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    const set = jsonData(await torua(['config', 'set', 'maxValueBytes=1048576', '--wait', '--json', ...target]), 'config set');
    expect(set.version).toBe(before.version + 1);
    const after = jsonData(await torua(['config', 'get', '--json', ...target]), 'config get');
    expect(after).toMatchObject({ version: before.version + 1, settings: { maxValueBytes: 1048576 }, nodes: { n1: after.version, n2: after.version, n3: after.version, n4: after.version } });
    const badSetting = await torua(['config', 'set', 'noSuchSetting=1', '--json', ...target]);
    expect(badSetting.code).toBe(1);
    expect(JSON.parse(badSetting.out)).toMatchObject({ ok: false, command: 'config set', exit_code: 1, error: { code: 'INVALID_INPUT' } });
    expect(jsonData(await torua(['config', 'get', '--json', ...target]), 'config get').version).toBe(after.version);

    // Placement, explained and previewed: nothing changes.
    const explained = jsonData(await torua(['explain', '0', '--json', ...target]), 'explain');
    expect(explained).toMatchObject({ shard: 0, copies: [{ role: 'primary', in_sync: true }, { role: 'replica', in_sync: true }] });
    expect(explained.nodes.map((n: { node: string }) => n.node).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect((await torua(['explain', '0', ...target])).out).toMatch(/^shard 0 \(epoch \d+\)\n/);
    const missingShard = await torua(['explain', '8', '--json', ...target]);
    expect(missingShard.code).toBe(1);
    expect(JSON.parse(missingShard.out)).toMatchObject({ ok: false, exit_code: 1, error: { code: 'NOT_FOUND' } });
    const epochsBefore = jsonData(await torua(['shards', '--json', ...target]), 'shards').shards.map((s: { epoch: number }) => s.epoch);
    const plan = jsonData(await torua(['plan', '--fail', 'n1', '--json', ...target]), 'plan');
    expect(plan.moves.length).toBeGreaterThan(0);
    expect(plan.result.nodes.n1 ?? { copies: 0 }).toMatchObject({ copies: 0 });
    expect(jsonData(await torua(['shards', '--json', ...target]), 'shards').shards.map((s: { epoch: number }) => s.epoch)).toEqual(epochsBefore);
    expect((await torua(['plan', '--new-node', 'n5', ...target])).code).toBe(2);

    // Maintenance of n4 with --wait into a pipe: progress on stderr, one JSON document on stdout.
    const on = await torua(['node', 'maintenance', 'on', 'n4', '--ttl', '10m', '--reason', 'cli test', '--wait', '--json', ...target]);
    const onDoc = jsonData(on, 'node maintenance');
    expect(onDoc.nodes[0]).toMatchObject({ id: 'n4', status: 'maintenance', maintenance: { reason: 'cli test' } });
    expect(on.err).not.toContain('\r');
    const n4 = jsonData(await torua(['nodes', '--json', ...target]), 'nodes').nodes.find((n: { id: string }) => n.id === 'n4');
    expect(n4).toMatchObject({ status: 'maintenance', shard_count: 0 });
    const unknown = await torua(['node', 'maintenance', 'on', 'n4', 'n9', '--json', ...target]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.out)).toMatchObject({ ok: false, exit_code: 1, error: { code: 'NOT_FOUND' } });
    const off = jsonData(await torua(['node', 'maintenance', 'off', 'n4', '--json', ...target]), 'node maintenance');
    expect(off.nodes[0]).toMatchObject({ id: 'n4', maintenance: null });
    expect((await torua(['node', 'maintenance', 'sideways', 'n4', ...target])).code).toBe(2);

    const evacuate = await torua(['node', 'evacuate', 'n3', '--wait', '--reason', 'cli test', ...target]);
    expect(evacuate.code, evacuate.err).toBe(0);
    expect(evacuate.err).toMatch(/^evacuate n3: \d+\/\d+ \(\d+%\)/m);
    expect(evacuate.out).toMatch(/^done: n3 evacuated \(\d+ copies moved\) and in maintenance$/);
    const n3 = jsonData(await torua(['nodes', '--json', ...target]), 'nodes').nodes.find((n: { id: string }) => n.id === 'n3');
    expect(n3).toMatchObject({ status: 'maintenance', shard_count: 0 });

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'torua-cli-snapshot-')), 'table.json');
    try {
      const saved = jsonData(await torua(['snapshot', 'save', file, '--json', ...target]), 'snapshot save');
      const written = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(written.state_hash).toBe(saved.state_hash);
      expect(Object.keys(written.state.nodes).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect((await torua(['snapshot', 'save', ...target])).code).toBe(2);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test('--version, npx torua, a global install, completion scripts, and exit 3 when nothing answers', async () => {
    const version = await torua(['--version']);
    // (execa drops the last newline)
    expect(version).toMatchObject({ code: 0, out: `torua ${VERSION}` });
    const npx = await execa('npx', ['--no-install', 'torua', '--version'], { cwd: REPO_ROOT, reject: false, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(npx.exitCode).toBe(0);
    expect(npx.stdout).toBe(`torua ${VERSION}`);

    // `npm install -g` of the package puts `torua` on the PATH (a private prefix here, so nothing global changes).
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-global-'));
    try {
      const install = await execa('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', REPO_ROOT], { reject: false });
      expect(install.exitCode, String(install.stderr)).toBe(0);
      const global = await execa('torua', ['--version'], { reject: false, env: { ...process.env, PATH: `${path.join(prefix, 'bin')}:${process.env['PATH']}` } });
      expect(global.stdout).toBe(`torua ${VERSION}`);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }

    const bash = await torua(['completion', 'bash']);
    expect(bash.code).toBe(0);
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'torua-completion-')), 'torua.bash');
    fs.writeFileSync(script, bash.out);
    const complete = (words: string): string =>
      execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _torua_complete; echo "\${COMPREPLY[*]}"`, script], { encoding: 'utf8' }).trim();
    expect(complete('torua no')).toBe('node nodes');
    expect(complete('torua node dr')).toBe('drain');
    expect(complete('torua node drain --w')).toBe('--wait');
    expect(complete('torua events --fo')).toBe('--follow');
    expect(complete('torua completion z')).toBe('zsh');
    const zsh = await torua(['completion', 'zsh']);
    expect(zsh.out).toMatch(/^#compdef torua\n/);
    expect((await torua(['completion', 'fish'])).code).toBe(2);
    fs.rmSync(path.dirname(script), { recursive: true, force: true });

    // Nothing listens on the discard port: unreachable is exit 3, as text and as JSON.
    const dead = await torua(['shards', '--coordinators', '127.0.0.1:9']);
    expect(dead.code).toBe(3);
    const deadJson = await torua(['events', '--json', '--coordinators', '127.0.0.1:9']);
    expect(deadJson.code).toBe(3);
    expect(JSON.parse(deadJson.out)).toMatchObject({ ok: false, command: 'events', exit_code: 3, error: { code: 'UNAVAILABLE' } });
  });
});
