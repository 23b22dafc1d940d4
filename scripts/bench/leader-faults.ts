/**
 * `npm run bench -- leader-faults [--trials N] [--writers W] [--faults a,b] [--logs DIR]`: what a fault
 * of the coordinator LEADER costs the data path. 3 coordinators
 * (127.0.0.11–13) and 3 data nodes (127.0.0.51–53), RF 2, 8 shards, default
 * health settings; W smart-client writers (default 8) put fresh keys back to
 * back. For each fault, N trials (default 3):
 *
 * - kill: SIGKILL of the leader (restarted after the window);
 * - pause: SIGSTOP of the leader for 5 s, then SIGCONT;
 * - isolate: every link of the leader's alias cut (iptables) for 5 s;
 * - link: only the link between the leader and the data node with the most
 *   primaries cut for 8 s (the followers still reach that node).
 *
 * Measured per trial: the longest gap between two acknowledged puts across
 * the whole cluster (from a second before the fault to two seconds after it
 * ended), failed puts (the client gave up), and lost puts (a final read of
 * every acknowledged key that does not return its value). For `link`, also
 * the failed share of the puts to that node's shards. The partition faults
 * need root and iptables; without them they are reported as not run.
 */
import { createKvClient, type KvClient } from '../../src/client/index.js';
import { Firewall, partitionUnsupportedReason, type Cut, type Endpoint as FirewallEndpoint } from '../chaos/firewall.js';
import { FailoverBenchCluster, mostPrimaries, SHARDS } from './failover-cluster.js';
import { parseJson, request } from './http.js';
import { log } from '../launch/log.js';
import { now, sleep } from '../launch/wait-for.js';
import { lostOf, maxGap, startWriters } from './smart-writers.js';

export interface LeaderFaultsBenchOptions {
  readonly trials: number;
  readonly writers: number;
  /** Where to copy the processes' logs at the end (none: they go with the temporary directory). */
  readonly logsTo?: string | undefined;
  /** Which faults to run (default all). */
  readonly faults?: readonly string[] | undefined;
}

type Fault = 'kill' | 'pause' | 'isolate' | 'link';
export const FAULTS: readonly Fault[] = ['kill', 'pause', 'isolate', 'link'];
const FAULT_LABEL: Record<Fault, string> = {
  kill: 'leader SIGKILL',
  pause: 'leader SIGSTOP 5 s',
  isolate: 'leader isolated (iptables) 5 s',
  link: 'leader<->node link cut 8 s',
};
const FAULT_MS: Record<Fault, number> = { kill: 5_000, pause: 5_000, isolate: 5_000, link: 8_000 };
const BEFORE_MS = 1_000;
const AFTER_MS = 2_000;
const GREEN_TIMEOUT_MS = 60_000;
const GOAL_GAP_MS = 500;
const GOAL_LINK_FAILED_SHARE = 0.02;

interface TrialResult {
  readonly fault: Fault;
  readonly leader: string;
  readonly maxGapMs: number;
  readonly puts: number;
  readonly failed: number;
  readonly lost: number;
  /** `link` only: puts to the cut node's shards, and how many of them failed. */
  readonly toNode?: { readonly puts: number; readonly failed: number; readonly node: string };
  readonly firstFailures: readonly string[];
}

class LeaderFaultsCluster extends FailoverBenchCluster {
  constructor() {
    super({ name: 'leader-faults', nodeHostBase: 51 });
  }

  /** The coordinator that says it leads and that every other running one names (polled). */
  async leader(timeoutMs = 20_000): Promise<string> {
    const deadline = now() + timeoutMs;
    while (now() < deadline) {
      const answers = await Promise.all(
        this.coordinators.map(async (c) => parseJson((await request(false, c.host, c.port, 'GET', '/health', undefined, 500)).text) as { id?: string; role?: string; leader?: string | null } | undefined),
      );
      const leaders = answers.filter((a) => a?.role === 'leader');
      if (leaders.length === 1) {
        const id = leaders[0]!.id!;
        if (answers.every((a) => a === undefined || a.leader === id)) return id;
      }
      await sleep(50);
    }
    throw new Error(`no single leader within ${timeoutMs} ms`);
  }

  async signal(id: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    if (signal === 'SIGKILL') await this.child(id).stop('SIGKILL');
    else this.child(id).signal(signal);
  }

  /** A process's alias and every port it listens on, for the firewall. */
  endpoint(id: string): FirewallEndpoint {
    const c = this.coordinators.find((x) => x.id === id);
    if (c !== undefined) return { host: c.host, ports: [c.port, this.peerPorts.get(id)!] };
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no process ${id}`);
    return { host: n.host, ports: [n.port] };
  }
}

async function trial(cluster: LeaderFaultsCluster, kv: KvClient, firewall: Firewall | undefined, fault: Fault, i: number, writers: number): Promise<TrialResult> {
  await cluster.waitGreen(GREEN_TIMEOUT_MS);
  const leader = await cluster.leader();
  const target = fault === 'link' ? mostPrimaries(await cluster.shards()) : undefined;
  const writing = startWriters(kv, { tag: `lf-${fault}-${i}-${Date.now().toString(36)}`, writers, shards: SHARDS });
  let cut: Cut | undefined;
  let faultAt = 0;
  let endAt = 0;
  try {
    await sleep(BEFORE_MS);
    faultAt = now();
    if (fault === 'kill') await cluster.signal(leader, 'SIGKILL');
    else if (fault === 'pause') await cluster.signal(leader, 'SIGSTOP');
    else {
      const others = fault === 'link' ? [target!.node] : [...cluster.coordinators.map((c) => c.id), ...cluster.nodes.map((n) => n.id)].filter((id) => id !== leader);
      cut = await firewall!.dropBothAtOnce(others.map((id) => [cluster.endpoint(leader), cluster.endpoint(id)] as const));
    }
    await sleep(FAULT_MS[fault]);
  } finally {
    if (cut !== undefined) for (const e of await firewall!.healAtOnce(cut)) log(`firewall: ${e}`);
    if (fault === 'pause') await cluster.signal(leader, 'SIGCONT');
  }
  endAt = now();
  await sleep(AFTER_MS);
  const puts = await writing.stop();
  if (fault === 'kill') await cluster.restart(leader);
  const windowEnd = endAt + AFTER_MS;
  const inWindow = puts.filter((p) => p.sentAt >= faultAt - BEFORE_MS && p.sentAt <= windowEnd);
  const failedPuts = inWindow.filter((p) => !p.ok);
  const lost = await lostOf(kv, puts);
  const toNode =
    target === undefined
      ? undefined
      : (() => {
          const during = puts.filter((p) => target.shards.includes(p.shard) && p.sentAt >= faultAt && p.sentAt <= endAt);
          return { node: target.node, puts: during.length, failed: during.filter((p) => !p.ok).length };
        })();
  const r: TrialResult = {
    fault,
    leader,
    maxGapMs: maxGap(puts, faultAt - BEFORE_MS, windowEnd),
    puts: inWindow.length,
    failed: failedPuts.length,
    lost: lost.length,
    ...(toNode === undefined ? {} : { toNode }),
    firstFailures: [...failedPuts.slice(0, 3).map((p) => `${p.key}: ${p.error ?? 'failed'}`), ...lost.slice(0, 3)],
  };
  log(
    `${FAULT_LABEL[fault]} trial ${i + 1} (leader ${leader}${toNode ? `, node ${toNode.node}` : ''}): longest gap ${Math.round(r.maxGapMs)} ms, ` +
      `${r.failed} of ${r.puts} puts failed, ${r.lost} lost${toNode ? `; to ${toNode.node}'s shards: ${toNode.failed} of ${toNode.puts} failed` : ''}`,
  );
  return r;
}

export async function runLeaderFaultsBench(opts: LeaderFaultsBenchOptions): Promise<void> {
  const noPartitions = partitionUnsupportedReason();
  const cluster = new LeaderFaultsCluster();
  const firewall = noPartitions === undefined ? new Firewall({ tag: `torua-leader-faults-${process.pid}` }) : undefined;
  const results: TrialResult[] = [];
  const notes: string[] = [];
  let kv: KvClient | undefined;
  try {
    log(`bench leader-faults: starting 3 coordinators and 3 data nodes; ${opts.writers} smart-client writers, ${opts.trials} trial(s) per fault`);
    await cluster.start();
    kv = createKvClient({ coordinators: cluster.coordinators.map((c) => `${c.host}:${c.port}`) });
    for (const fault of FAULTS) {
      if (opts.faults !== undefined && !opts.faults.includes(fault)) continue;
      if ((fault === 'isolate' || fault === 'link') && firewall === undefined) {
        notes.push(`${FAULT_LABEL[fault]}: not run (${noPartitions})`);
        continue;
      }
      for (let i = 0; i < opts.trials; i++) results.push(await trial(cluster, kv, firewall, fault, i, opts.writers));
    }
  } catch (e) {
    notes.push(`stopped early: ${String(e).split('\n')[0]}`);
    log(`bench leader-faults: ERROR ${String(e)}`);
  } finally {
    const errors = firewall?.healAll() ?? [];
    for (const e of errors) notes.push(`firewall: ${e}`);
    kv?.close();
    if (opts.logsTo !== undefined) {
      await cluster.copyLogs(opts.logsTo).then(
        () => log(`logs copied to ${opts.logsTo}`),
        (e: unknown) => notes.push(`logs not copied: ${String(e)}`),
      );
    }
    await cluster.close();
  }
  const ms = (n: number): string => `${Math.round(n)} ms`;
  const rows = FAULTS.map((fault) => {
    const rs = results.filter((r) => r.fault === fault);
    if (rs.length === 0) return `  ${FAULT_LABEL[fault].padEnd(32)} not run`;
    const gaps = rs.map((r) => r.maxGapMs);
    const failed = rs.reduce((a, r) => a + r.failed, 0);
    const puts = rs.reduce((a, r) => a + r.puts, 0);
    const lost = rs.reduce((a, r) => a + r.lost, 0);
    const node = rs.filter((r) => r.toNode !== undefined);
    const nodeShare = node.length === 0 ? '' : `   to the node's shards: ${node.map((r) => `${r.toNode!.failed}/${r.toNode!.puts}`).join(', ')}`;
    return `  ${FAULT_LABEL[fault].padEnd(32)} ${String(rs.length).padStart(6)}   ${ms(Math.max(...gaps)).padStart(8)}   ${gaps.map((g) => Math.round(g)).join(', ').padEnd(28)} ${`${failed}/${puts}`.padStart(10)} ${String(lost).padStart(5)}${nodeShare}`;
  });
  const worst = (f: Fault) => results.filter((r) => r.fault === f);
  const gapGoal = (['kill', 'pause', 'isolate'] as const).flatMap(worst);
  const linkRuns = worst('link');
  const linkShare = Math.max(0, ...linkRuns.map((r) => (r.toNode!.puts === 0 ? 1 : r.toNode!.failed / r.toNode!.puts)));
  const out = [
    '',
    `Leader faults: 3 coordinators + 3 data nodes (RF 2, ${SHARDS} shards), default settings (1 s lease), ${opts.writers} smart-client writers`,
    `  ${'fault'.padEnd(32)} ${'trials'.padStart(6)}   ${'max gap'.padStart(8)}   ${'per trial (ms)'.padEnd(28)} ${'failed'.padStart(10)} ${'lost'.padStart(5)}`,
    ...rows,
    '',
    `goal: kill, pause and isolation of the leader leave no gap over ${GOAL_GAP_MS} ms and fail no put: ${
      gapGoal.length > 0 && gapGoal.every((r) => r.maxGapMs <= GOAL_GAP_MS && r.failed === 0) ? 'met' : 'NOT met'
    }${(['kill', 'pause', 'isolate'] as const).every((f) => worst(f).length > 0) ? '' : ' (not every one of them was run)'}`,
    `goal: the leader<->node cut fails <= ${GOAL_LINK_FAILED_SHARE * 100}% of the puts to that node's shards and loses none: ${
      linkRuns.length > 0 && linkShare <= GOAL_LINK_FAILED_SHARE && linkRuns.every((r) => r.lost === 0) ? 'met' : 'NOT met'
    } (worst ${(linkShare * 100).toFixed(1)}%)`,
    `goal: nothing lost: ${results.length > 0 && results.every((r) => r.lost === 0) ? 'met' : 'NOT met'}`,
    ...results.filter((r) => r.firstFailures.length > 0).slice(0, 4).map((r) => `  e.g. ${FAULT_LABEL[r.fault]}: ${r.firstFailures.join('; ')}`),
    ...notes.map((n) => `  note: ${n}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (notes.some((n) => n.startsWith('stopped early'))) process.exitCode = 1;
}
