/**
 * `torua cluster up` as a user runs it (compiled, its own process): it
 * prints where each replica and data node answers, a leader appears and is
 * reported, the node comes up and gets its lease,
 * `torua status` sees all three with one state hash, a replica killed from
 * outside is reported, and SIGTERM stops every child it started: no PID
 * is left alive.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectBuilt, isAlive, useTestClusters, waitFor } from '../support/coordinator-processes.js';

const clusters = useTestClusters();
beforeAll(expectBuilt);

describe('torua cluster up', () => {
  it('starts every coordinator and node, reports the leader and changes, and stops them all on SIGTERM', async () => {
    const cluster = await clusters.create({ nodes: 1 });
    const up = cluster.launch('cluster-up', ['cluster', 'up', '--config', cluster.configPath]);
    let out = '';
    up.onLine((line, stream) => {
      if (stream === 'stdout') out += `${line}\n`;
    });

    const pids = await waitFor('the three children with their PIDs', () => {
      const found = [...out.matchAll(/^ {2}(c\d) {2}pid (\d+) {2}http:\/\/(\S+)\/cluster\/info {2}log (\S+)$/gm)].map((m) => ({ id: m[1], pid: Number(m[2]), address: m[3] }));
      return found.length === 3 ? found : undefined;
    });
    for (const p of pids) cluster.extraPids.add(p.pid);
    expect(pids.map((p) => p.address)).toEqual(cluster.addresses);
    const node = /^ {2}n1 {2}pid (\d+) {2}http:\/\/(\S+)\/info {2}log (\S+)$/m.exec(out);
    expect(node, out).not.toBeNull();
    const nodePid = Number(node?.[1]);
    cluster.extraPids.add(nodePid);
    pids.push({ id: 'n1', pid: nodePid, address: node?.[2] });
    expect(out).toMatch(/status: node \S+main\.js status --config /);
    // It prints where the dashboard is, and the dashboard is there (files from the package, no leader needed).
    const dashboard = /^dashboard: (http:\/\/\S+\/ui\/)$/m.exec(out);
    expect(dashboard?.[1]).toBe(`http://${cluster.addresses[0]}/ui/`);

    const leader = await waitFor('a leader, reported once', () => /leader elected: (c\d) \(term (\d+)\)/.exec(out)?.[1]);
    await waitFor('the node up, with a lease', () => (/n1 up \(/.test(out) && /n1 holds a lease from c\d/.test(out) ? true : undefined));
    const info = (await (await fetch(`http://${cluster.replica(leader).address}/cluster/info`)).json()) as { leader: string };
    expect(info.leader).toBe(leader);
    const page = await fetch(dashboard![1]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Torua dashboard</title>');

    const status = await cluster.torua('status', ['status', '--config', cluster.configPath], { pipeStdout: true });
    expect(status.exitCode, String(status.stdout)).toBe(0);
    expect(String(status.stdout)).toMatch(/state hashes agree \(3 replicas at applied index \d+\)/);

    // A replica killed from outside: its exit and the new leader are reported, one line each.
    const leaderPid = pids.find((p) => p.id === leader)?.pid as number;
    process.kill(leaderPid, 'SIGKILL');
    await waitFor('the exit and the new leader', () => (out.includes(`${leader} exited (killed by SIGKILL)`) && /leader changed: c\d → c\d/.test(out) ? true : undefined));
    expect(out.match(/leader elected:/g)).toHaveLength(1);

    const { exit } = await up.stop('SIGTERM');
    expect(exit.exitCode, out).toBe(0);
    expect(out).toMatch(/SIGTERM: stopping c\d, c\d, n1\n.*stopped\n$/);
    for (const p of pids) expect(isAlive(p.pid), `${p.id} (pid ${p.pid}) still alive`).toBe(false);
  });

  it('refuses to start when a port of the file is taken, starting nothing', async () => {
    const cluster = await clusters.create();
    cluster.start('c2');
    await waitFor('c2 to answer', async () => ((await fetch(`http://${cluster.replica('c2').address}/health`).catch(() => undefined))?.ok ? true : undefined));
    const up = await cluster.torua('cluster-up', ['cluster', 'up', '--config', cluster.configPath], { pipeStdout: true });
    expect(up.exitCode).toBe(1);
    expect(String(up.stdout)).toBe('');
    const err = (await import('node:fs')).readFileSync(`${cluster.dir}/cluster-up.log.err`, 'utf8');
    expect(err).toMatch(/ports in use/);
    expect(err).toContain(`${cluster.replica('c2').address} (c2 apiPort): address in use`);
  });
});
