/**
 * The steps of features/cluster-management.feature (health checks,
 * quorum-confirmed failure decisions, failover; then the planned operations
 * and the rest of the original cluster-management suite), over the
 * integration harness (test/support/cluster-harness.ts): every scenario starts
 * its own three real `torua coordinator` and three (or four) `torua node`
 * processes with the default health
 * settings and closes them (resuming stopped ones, deleting any packet-filter
 * rule it added) when it ends, passed or failed.
 *
 * "Nothing happens" checks poll for a violation over a stated observation
 * window instead of sleeping through it, so a violation fails at once.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describeFeature, loadFeature } from '@amiceli/vitest-cucumber';
import { execa } from 'execa';
import { printDiagnosticsOnStepError } from './support/step-errors.js';
import { afterAll, expect } from 'vitest';
import { PACKAGE_VERSION } from '../src/cli/package-version.js';
import { shardForKey } from '../src/common/key-hash.js';
import { Cluster, httpRequest, MAIN_JS, now, partitionUnsupportedReason, sleep, waitFor } from '../test/support/cluster-harness.js';
import { dataRequest, describeAnswer } from '../test/support/data-http.js';
import { KvWriter } from '../test/support/kv-writer.js';
import { createKvClient, type KvClient } from '../src/client/index.js';
import { copyOfBuild, nextPatch, restartServer } from '../test/support/upgrade-kit.js';

const SHARDS = 8;
/** The defaults (src/config/settings.ts), stated here because the bound is computed from them. */
const PROBE_INTERVAL_MS = 250;
const PROBE_TIMEOUT_MS = 200;
const FAILURE_THRESHOLD = 3;
const LEASE_MS = 1_000;
/** interval × threshold + timeout + lease = 1.95 s: the earliest a hung node can be decided and failed over. */
const FAILOVER_BOUND_MS = PROBE_INTERVAL_MS * FAILURE_THRESHOLD + PROBE_TIMEOUT_MS + LEASE_MS;
/** For the confirmation round, the proposal, the promotions' commits and a loaded test machine. */
const FAILOVER_MARGIN_MS = 3_000;

interface ShardView {
  id: number;
  primary: string | null;
  replicas: string[];
  in_sync: string[];
  epoch: number;
  state: string;
}
interface NodeHealthView {
  status: string;
  consecutive_failures: number;
  path: 'ok' | 'degraded';
  reason: string;
}
interface NodeView {
  id: string;
  status: string;
  health: NodeHealthView | null;
}
interface EventView {
  seq: number;
  index: number;
  term: number;
  time: string;
  time_ms: number;
  kind: string;
  node: string | null;
  shard: number | null;
  message: string;
  reason: string;
}
interface EventPage {
  events: EventView[];
  last_seq: number;
}
interface ClusterInfoView {
  cluster_state: 'green' | 'yellow' | 'red';
  cluster_state_reasons: string[];
}

interface World {
  h?: Cluster;
  writer?: KvWriter;
  receiver?: WebhookReceiver;
  /** The data node the scenario stops. */
  target?: string;
  /** The shards the target was primary of before it was stopped. */
  primaryOf?: number[];
  /** The table before the fault. */
  before?: ShardView[];
  /** The newest event seq before the fault. */
  sinceSeq?: number;
  leader?: string;
  /** Readers of a skewed load: stopped, then awaited, when the scenario ends. */
  readers?: { stop(): Promise<void> };
  /** A rolling upgrade: the next version, the copy of the build that reports it, the command's result, what /cluster/info showed meanwhile. */
  upgrade?: { to: string; main: string; exitCode?: number; output?: string; seen: { current: string | null; restarting: number; done: string[] }[] };
  closeRestarts?: () => Promise<void>;
}

let world: World = {};
let scenarioNo = 0;

function cluster(): Cluster {
  if (!world.h) throw new Error('no cluster in this scenario');
  return world.h;
}

async function endScenario(): Promise<void> {
  const w = world;
  world = {};
  await w.readers?.stop();
  await w.writer?.stop();
  await w.closeRestarts?.();
  await w.h?.close();
  await w.receiver?.close();
}
afterAll(endScenario);

printDiagnosticsOnStepError(() => world.h);

// ---------------------------------------------------------------------------
// A webhook receiver: an in-process HTTP server that keeps every JSON body
// ---------------------------------------------------------------------------

/** At most this many bodies are kept (a receiver is bounded like every queue). */
const MAX_RECEIVED = 10_000;

class WebhookReceiver {
  readonly received: EventView[] = [];
  private constructor(private readonly server: http.Server) {}

  static async listen(): Promise<WebhookReceiver> {
    const server = http.createServer();
    const r = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 1024 * 1024) chunks.push(c);
      });
      req.on('end', () => {
        try {
          if (r.received.length < MAX_RECEIVED) r.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as EventView);
          res.writeHead(204).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/torua-events`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------
// Observations
// ---------------------------------------------------------------------------

function coordinatorAddresses(): string[] {
  const h = cluster();
  return h.running(h.voters).map((id) => `${h.member(id).host}:${h.member(id).apiPort}`);
}

async function getJson<T>(path: string, via?: string): Promise<T> {
  const h = cluster();
  const through = via ?? h.running(h.voters)[0]!;
  const a = await h.get(through, path, 5_000);
  if (a.status !== 200) throw new Error(`GET ${path} on ${through}: ${a.status} ${a.error ?? JSON.stringify(a.body)}`);
  return a.body as T;
}

const shards = async (via?: string): Promise<ShardView[]> => (await getJson<{ shards: ShardView[] }>('/shards', via)).shards;
const nodes = async (via?: string): Promise<NodeView[]> => (await getJson<{ nodes: NodeView[] }>('/nodes', via)).nodes;
const eventsSince = async (since: number, via?: string): Promise<EventPage> => getJson<EventPage>(`/events?since=${since}`, via);

async function nodeOn(id: string, via?: string): Promise<NodeView> {
  const n = (await nodes(via)).find((x) => x.id === id);
  if (n === undefined) throw new Error(`${id} is not in /nodes`);
  return n;
}

async function leader(): Promise<string> {
  return (await cluster().waitForLeader()).id;
}

/** Every shard has a primary and `copies - 1` replicas, all in sync, on distinct nodes. */
function placedOn(list: ShardView[], copies: number): string | undefined {
  for (const s of list) {
    const all = s.primary === null ? s.replicas : [s.primary, ...s.replicas];
    if (s.primary === null) return `shard ${s.id} has no primary`;
    if (all.length !== copies) return `shard ${s.id} has ${all.length} copies (${all.join(', ')})`;
    if (new Set(all).size !== all.length) return `shard ${s.id} has two copies on one node`;
    if (s.in_sync.length !== copies) return `shard ${s.id}: only ${s.in_sync.join(', ')} in sync`;
  }
  return undefined;
}

/** What still keeps `nodeId`'s failover from being complete, or undefined when it is. */
async function failoverLacks(nodeId: string): Promise<string | undefined> {
  const n = await nodeOn(nodeId);
  if (n.status !== 'unhealthy') return `${nodeId} is ${n.status}${n.health ? ` (leader's view: ${n.health.status}, ${n.health.reason})` : ''}`;
  for (const s of await shards()) {
    if (s.primary === null || s.primary === nodeId) return `shard ${s.id}: primary ${s.primary ?? 'none'}`;
    if (!s.in_sync.includes(s.primary)) return `shard ${s.id}: primary ${s.primary} not in sync`;
  }
  return undefined;
}

/** Resolves with the milliseconds from `fromMs` until `nodeId` is unhealthy and none of its shards' primaries is on it. */
async function waitForFailover(nodeId: string, fromMs: number, timeoutMs: number): Promise<number> {
  let last = '';
  return waitFor(
    `${nodeId} declared unhealthy and its shards failed over`,
    async () => {
      last = (await failoverLacks(nodeId)) ?? '';
      return last === '' ? now() - fromMs : undefined;
    },
    { timeoutMs, intervalMs: 50, describe: () => last },
  );
}

/**
 * Polls `violation` every `intervalMs` for `windowMs`: fails at the first
 * violation it reports (a string), passes when the window ends without one.
 */
async function holdsFor(what: string, windowMs: number, violation: () => Promise<string | undefined>, intervalMs = 100): Promise<number> {
  const until = now() + windowMs;
  let polls = 0;
  while (now() < until) {
    const v = await violation();
    polls++;
    if (v !== undefined) throw new Error(`${what}: ${v}`);
    await sleep(intervalMs);
  }
  return polls;
}

interface StartOptions {
  readonly notifications?: Record<string, unknown>;
  /** Data nodes in the file (default 3); only the first `started` are started. */
  readonly nodes?: number;
  readonly started?: number;
  readonly nodeCapacity?: number;
  /** The cluster file's initial replicated settings. */
  readonly settings?: Readonly<Record<string, unknown>>;
}

async function startCluster(name: string, opts: StartOptions = {}): Promise<Cluster> {
  const h = await Cluster.create({
    name: `cm${++scenarioNo}-${name}`,
    nodes: opts.nodes ?? 3,
    shards: SHARDS,
    replicationFactor: 2,
    ...(opts.nodeCapacity === undefined ? {} : { nodeCapacity: opts.nodeCapacity }),
    ...(opts.notifications === undefined ? {} : { notifications: opts.notifications }),
    ...(opts.settings === undefined ? {} : { settings: opts.settings }),
  });
  world.h = h;
  await h.startVoters();
  await h.waitForLeader({ all: true });
  await Promise.all(h.nodes.slice(0, opts.started ?? h.nodes.length).map((n) => h.start(n.id)));
  let last = '';
  world.before = await waitFor(
    'every shard with 2 copies in sync and every node healthy',
    async () => {
      const list = await shards();
      const sick = (await nodes()).filter((n) => n.status !== 'healthy').map((n) => `${n.id}: ${n.status}`);
      last = placedOn(list, 2) ?? sick.join(', ');
      return last === '' ? list : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, describe: () => last },
  );
  world.sinceSeq = (await eventsSince(0)).last_seq;
  return h;
}

/** The node with the most primaries (at least one), and those shards. */
function pickPrimaryNode(list: ShardView[]): { id: string; primaryOf: number[] } {
  const by = new Map<string, number[]>();
  for (const s of list) if (s.primary !== null) by.set(s.primary, [...(by.get(s.primary) ?? []), s.id]);
  const [id, primaryOf] = [...by].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0]!;
  return { id, primaryOf };
}

function stopPrimaryNode(): { id: string; stoppedAtMs: number } {
  const { id, primaryOf } = pickPrimaryNode(world.before!);
  world.target = id;
  world.primaryOf = primaryOf;
  const stoppedAtMs = now();
  cluster().pause(id);
  return { id, stoppedAtMs };
}

async function expectAllAcknowledgedReadable(): Promise<void> {
  const pairs = world.writer!.ackedPairs();
  expect(pairs.size).toBeGreaterThan(0);
  const via = coordinatorAddresses();
  const wrong: string[] = [];
  for (const [key, value] of pairs) {
    let last = '';
    const got = await waitFor(
      `GET ${key} answered`,
      async () => {
        const a = await dataRequest(via[0]!, 'GET', key);
        last = describeAnswer(a);
        return a.status === 200 || a.status === 404 ? a : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
    );
    if (got.status !== 200 || got.bytes.toString('utf8') !== value) wrong.push(`${key}: expected ${value}, got ${describeAnswer(got)} ${got.bytes.toString('utf8')}`);
  }
  expect(wrong, `${wrong.length} of ${pairs.size} acknowledged keys lost`).toEqual([]);
}

function promotionsByShard(events: readonly EventView[]): Map<number, EventView[]> {
  const out = new Map<number, EventView[]>();
  for (const e of events) if (e.kind === 'shard-promoted' && e.shard !== null) out.set(e.shard, [...(out.get(e.shard) ?? []), e]);
  return out;
}

const feature = await loadFeature(fileURLToPath(new URL('./cluster-management.feature', import.meta.url)));
const noPartitions = partitionUnsupportedReason();
if (noPartitions !== undefined) {
  console.warn(`features/cluster-management.feature: the @iptables scenario is SKIPPED, it needs root and a working iptables: ${noPartitions}`);
}

describeFeature(feature, ({ Scenario, AfterEachScenario }) => {
  AfterEachScenario(endScenario);

  Scenario('A hung node is declared unhealthy and its shards fail over', ({ Given, When, Then, And }) => {
    let stoppedAtMs = 0;
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('hung');
    });
    And('a writer that keeps storing new keys through every coordinator', async () => {
      world.writer = new KvWriter({ prefix: 'w', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    });
    When('a node that is primary of some shards is stopped with SIGSTOP', () => {
      stoppedAtMs = stopPrimaryNode().stoppedAtMs;
      expect(world.primaryOf!.length).toBeGreaterThan(0);
    });
    Then(
      `within 4.95 s (250 × 3 + 200 + 1000 = 1.95 s, plus a 3 s margin) "/nodes" shows it unhealthy and every shard has an in-sync primary on another node`,
      async () => {
        expect(FAILOVER_BOUND_MS + FAILOVER_MARGIN_MS).toBe(4_950);
        // Waits past the bound so a slow failover is reported with its time, not just as a timeout.
        const tookMs = await waitForFailover(world.target!, stoppedAtMs, 30_000);
        console.info(`cluster-management: ${world.target} failed over ${Math.round(tookMs)} ms after SIGSTOP (bound ${FAILOVER_BOUND_MS} + ${FAILOVER_MARGIN_MS} ms)`);
        expect(tookMs, `failover took ${Math.round(tookMs)} ms`).toBeLessThan(FAILOVER_BOUND_MS + FAILOVER_MARGIN_MS);
        const promoted = promotionsByShard((await eventsSince(world.sinceSeq!)).events);
        for (const s of world.primaryOf!) expect(promoted.get(s)?.length, `promotions of shard ${s}`).toBe(1);
      },
    );
    And('new keys can still be written', async () => {
      await world.writer!.waitForAcks(20);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
  });

  Scenario('Twenty pauses shorter than the threshold decide nothing', ({ Given, When, Then, And }) => {
    const PAUSES = 20;
    const PAUSE_MS = 300;
    const GAP_MS = 700;
    const seen: string[] = [];
    let polls = 0;
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('pauses');
      world.target = 'n1';
    });
    When('a node is paused 20 times with SIGSTOP for 300 ms, with 700 ms between pauses', async () => {
      const h = cluster();
      const id = world.target!;
      let done = false;
      // Watches the table all along: a decision at any moment shows as a status other than healthy.
      const watch = (async () => {
        while (!done) {
          const n = await nodeOn(id).catch(() => undefined);
          polls++;
          if (n !== undefined && n.status !== 'healthy') seen.push(`${n.status} at poll ${polls}`);
          await sleep(50);
        }
      })();
      try {
        for (let i = 0; i < PAUSES; i++) {
          h.pause(id);
          await sleep(PAUSE_MS); // the pause itself: the fault is "hung for 300 ms"
          h.resume(id);
          await sleep(GAP_MS);
        }
        // A decision already under way would show within one lease after the last pause.
        await holdsFor(`${id} stays healthy after the last pause`, LEASE_MS + PROBE_INTERVAL_MS * FAILURE_THRESHOLD, async () => (seen.length > 0 ? seen[0] : undefined));
      } finally {
        done = true;
        await watch;
      }
    });
    Then('the node never left "healthy" in "/nodes"', () => {
      expect(polls).toBeGreaterThan(PAUSES);
      expect(seen).toEqual([]);
    });
    And('"/events" shows no status change of the node and no promotion of its shards', async () => {
      const { events } = await eventsSince(world.sinceSeq!);
      const id = world.target!;
      const held = world.before!.filter((s) => s.primary === id || s.replicas.includes(id)).map((s) => s.id);
      const bad = events.filter((e) => (e.kind === 'node-status' && e.node === id) || (e.kind.startsWith('shard-') && e.shard !== null && held.includes(e.shard)));
      expect(bad.map((e) => `${e.kind} ${e.node ?? ''}${e.shard ?? ''}: ${e.message}`)).toEqual([]);
    });
    And('the epochs of its shards are unchanged', async () => {
      const after = await shards();
      const id = world.target!;
      for (const s of world.before!.filter((x) => x.primary === id || x.replicas.includes(id))) {
        expect(after[s.id]!.epoch, `epoch of shard ${s.id}`).toBe(s.epoch);
        expect(after[s.id]!.primary).toBe(s.primary);
      }
    });
  });

  const partitionScenario = noPartitions === undefined ? Scenario : Scenario.skip;
  partitionScenario("The leader's path to one node is cut while the followers still reach it", ({ Given, When, Then, And }) => {
    const OBSERVE_MS = 5_000;
    /** Direct writes to the node's primary shards while the cut lasts: each needs the node's lease and the shard's epoch. */
    const writes = { ok: 0, failed: [] as string[] };
    /** A key of each shard the node is primary of. */
    let keys: { shard: number; key: string }[] = [];
    const writeEach = async (tag: string): Promise<void> => {
      const now = await shards();
      for (const { shard, key } of keys) {
        const s = now[shard]!;
        const a = await dataRequest(cluster().nodeAddress(world.target!), 'PUT', key, Buffer.from(tag), { query: { epoch: s.epoch } });
        if (a.status === 204) writes.ok++;
        else writes.failed.push(`shard ${shard}: ${describeAnswer(a)}`);
      }
    };
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('path');
      world.target = 'n1';
      const primaries = world.before!.filter((s) => s.primary === world.target).map((s) => s.id);
      expect(primaries.length, `${world.target} is primary of some shards`).toBeGreaterThan(0);
      keys = primaries.map((shard) => {
        let i = 0;
        while (shardForKey(`path-${i}`, SHARDS) !== shard) i++;
        return { shard, key: `path-${i}` };
      });
    });
    When('the packet filter cuts the leader off from one node, and only from it', async () => {
      world.leader = await leader();
      cluster().cutCoordinatorFromNode(world.leader, world.target!);
    });
    Then('for 5 s the node stays healthy in "/nodes" and no shard of it moves', async () => {
      const id = world.target!;
      const held = world.before!.filter((s) => s.primary === id || s.replicas.includes(id));
      let round = 0;
      await holdsFor(`${id} must stay healthy with its shards in place`, OBSERVE_MS, async () => {
        await writeEach(`cut-${round++}`);
        const n = await nodeOn(id, world.leader);
        if (n.status !== 'healthy') return `${id} is ${n.status} (${n.health?.reason ?? ''})`;
        const now = await shards(world.leader);
        const moved = held.filter((s) => now[s.id]!.epoch !== s.epoch);
        return moved.length > 0 ? `shards ${moved.map((s) => s.id).join(', ')} changed epoch` : undefined;
      });
    });
    And('all along the node takes writes for its primary shards: its lease renewals reach the leader through a follower', async () => {
      expect(await leader(), 'the leader changed during the observation').toBe(world.leader);
      // Each round wrote once to every primary shard of the node; a lease that lapsed would show as NO_LEASE here.
      expect(writes.failed).toEqual([]);
      expect(writes.ok).toBeGreaterThanOrEqual(keys.length * 10);
    });
    When('the packet filter is removed', () => {
      cluster().heal();
    });
    Then('the node is still healthy with its shards in place and takes writes', async () => {
      const n = await nodeOn(world.target!, world.leader);
      expect(n.status).toBe('healthy');
      const now = await shards();
      for (const s of world.before!.filter((x) => x.primary === world.target)) expect(now[s.id]!.primary).toBe(world.target);
      writes.failed = [];
      await writeEach('healed');
      expect(writes.failed).toEqual([]);
    });
  });

  Scenario('The leader killed while a node is failing: the new leader completes the failover once', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('leader-kill');
      world.leader = await leader();
    });
    When('a node that is primary of some shards is stopped with SIGSTOP', () => {
      stopPrimaryNode();
    });
    And('the leader\'s "/nodes" shows the node suspect', async () => {
      let last = '';
      await waitFor(
        `${world.leader}'s /nodes to show ${world.target} suspect`,
        async () => {
          const n = await nodeOn(world.target!, world.leader);
          last = `${n.status} / ${JSON.stringify(n.health)}`;
          return n.health?.status === 'suspect' ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 20, describe: () => last },
      );
    });
    And('the leader is killed with SIGKILL', async () => {
      await cluster().kill(world.leader!, 'SIGKILL');
    });
    Then('a new leader declares the node unhealthy and every shard has an in-sync primary on another node', async () => {
      const next = await cluster().waitForLeader({ exclude: [world.leader!] });
      expect(next.id).not.toBe(world.leader);
      await waitForFailover(world.target!, now(), 30_000);
    });
    And('"/events" shows each shard the node was primary of promoted exactly once', async () => {
      const events = (await eventsSince(world.sinceSeq!)).events;
      const promoted = promotionsByShard(events);
      for (const s of world.primaryOf!) {
        expect(
          promoted.get(s)?.map((e) => `t${e.term} #${e.index}: ${e.message}`),
          `promotions of shard ${s}`,
        ).toHaveLength(1);
      }
      const decisions = events.filter((e) => e.kind === 'node-status' && e.node === world.target && e.message.includes('→ unhealthy'));
      expect(decisions).toHaveLength(1);
    });
  });

  Scenario('A node that returns is healthy again and gets nothing back by itself', ({ Given, When, Then, And }) => {
    let failedOver: ShardView[] = [];
    let sinceReturn = 0;
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('returns');
    });
    And('a node that was stopped with SIGSTOP has been declared unhealthy and its shards failed over', async () => {
      const { id, stoppedAtMs } = stopPrimaryNode();
      await waitForFailover(id, stoppedAtMs, 30_000);
      failedOver = await shards();
    });
    When('the node is resumed with SIGCONT', () => {
      cluster().resume(world.target!);
    });
    Then('"/nodes" shows it healthy again', async () => {
      let last = '';
      await waitFor(
        `${world.target} healthy again`,
        async () => {
          const n = await nodeOn(world.target!);
          last = `${n.status}: ${JSON.stringify(n.health)}`;
          return n.status === 'healthy' ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
      );
      sinceReturn = (await eventsSince(0)).last_seq;
    });
    And('for 3 s every shard keeps the primary failover gave it and no balance step is taken', async () => {
      await holdsFor('nothing moves back by itself', 3_000, async () => {
        const list = await shards();
        const back = list.filter((s) => s.primary !== failedOver[s.id]!.primary);
        if (back.length > 0) return `primaries changed: ${back.map((s) => `shard ${s.id} ${failedOver[s.id]!.primary} → ${s.primary}`).join(', ')}`;
        const balance = (await eventsSince(sinceReturn)).events.filter((e) => e.reason.startsWith('balance:') || e.kind === 'shard-promoted');
        return balance.length > 0 ? `unasked moves: ${balance.map((e) => e.message).join('; ')}` : undefined;
      });
    });
    When('a rebalance is asked for through "POST /cluster/rebalance"', async () => {
      const h = cluster();
      const a = await h.post(h.running(h.voters)[0]!, '/cluster/rebalance', {}, 10_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
    });
    // The planner's balance rule evens out copies, then primaries by handoffs (src/coordinator/placement/balance.ts):
    // the returning node holds its copies again, in sync, and no node holds more than one copy above another.
    Then("every shard has its copies in sync, the node's among them, and no node holds two copies more than another", async () => {
      let last = '';
      const list = await waitFor(
        'every shard with 2 copies in sync, copies even within one',
        async () => {
          const l = await shards();
          const counts = cluster().nodes.map((n) => l.filter((s) => s.primary === n.id || s.replicas.includes(n.id)).length);
          last = placedOn(l, 2) ?? (Math.max(...counts) - Math.min(...counts) > 1 ? `copies per node ${counts.join(', ')}` : '');
          return last === '' ? l : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, describe: () => last },
      );
      expect(list.some((s) => s.in_sync.includes(world.target!))).toBe(true);
    });
  });

  Scenario('Two of three nodes stopped: the storm guard holds and the cluster is red', ({ Given, When, Then, And }) => {
    const stopped = ['n1', 'n2'];
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('storm');
      world.leader = await leader();
    });
    When('two nodes are stopped with SIGSTOP', () => {
      for (const id of stopped) cluster().pause(id);
    });
    Then('at most one of them is declared unhealthy, for 5 s', async () => {
      // 5 s is past the failover bound (1.95 s + margin): a second decision would have come by then.
      await holdsFor('the storm guard allows one decision at most', FAILOVER_BOUND_MS + FAILOVER_MARGIN_MS, async () => {
        const list = await nodes();
        const down = list.filter((n) => stopped.includes(n.id) && n.status === 'unhealthy');
        return down.length > 1 ? `both declared unhealthy: ${down.map((n) => n.id).join(', ')}` : undefined;
      });
      const decisions = (await eventsSince(world.sinceSeq!)).events.filter((e) => e.kind === 'node-status' && e.message.includes('→ unhealthy'));
      expect(decisions.length).toBeLessThanOrEqual(1);
    });
    And('"/cluster/info" says "red" with the storm guard among its reasons', async () => {
      let last = '';
      const info = await waitFor(
        'the leader\'s /cluster/info red with a storm-guard reason',
        async () => {
          const i = await getJson<ClusterInfoView>('/cluster/info', await leader());
          last = JSON.stringify(i);
          return i.cluster_state === 'red' && i.cluster_state_reasons.some((r) => r.startsWith('storm guard')) ? i : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50, describe: () => last },
      );
      expect(info.cluster_state).toBe('red');
    });
  });

  Scenario('A webhook receiver gets the events', ({ Given, When, Then, And }) => {
    Given('a webhook receiver listening on 127.0.0.1', async () => {
      world.receiver = await WebhookReceiver.listen();
    });
    And('a running cluster of three coordinators and three data nodes that notifies it', async () => {
      await startCluster('webhook', { notifications: { webhookUrl: world.receiver!.url } });
    });
    When('a node is stopped with SIGSTOP', () => {
      stopPrimaryNode();
    });
    Then('the receiver gets the node\'s status change to unhealthy with its term, index, time and reason', async () => {
      const id = world.target!;
      const e = await waitFor(
        `a node-status event for ${id} at the receiver`,
        () => world.receiver!.received.find((x) => x.kind === 'node-status' && x.node === id && x.message.includes('→ unhealthy')),
        { timeoutMs: 30_000, intervalMs: 50, describe: () => `${world.receiver!.received.length} events received, last ${JSON.stringify(world.receiver!.received.at(-1))}` },
      );
      expect(e.term).toBeGreaterThan(0);
      expect(e.index).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(e.reason).toMatch(/consecutive probes failed.*confirmed by/);
      expect((e as unknown as Record<string, unknown>)['cluster_id']).toBe(`it-${cluster().name}`);
    });
    And('the receiver gets the promotions of the node\'s shards', async () => {
      await waitFor(
        `a shard-promoted event for each of shards ${world.primaryOf!.join(', ')}`,
        () => {
          const promoted = promotionsByShard(world.receiver!.received);
          return world.primaryOf!.every((s) => promoted.has(s)) ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
    });
  });

  // -------------------------------------------------------------------------
  // The planned operations and the rest of the original suite
  // -------------------------------------------------------------------------

  Scenario('A new cluster forms with its shards spread evenly', ({ Given, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('formation');
    });
    Then('every shard has a primary and a replica on two different nodes, both in sync', async () => {
      const list = await shards();
      expect(list).toHaveLength(SHARDS);
      expect(placedOn(list, 2)).toBeUndefined();
    });
    And('each node is primary of 2 or 3 of the 8 shards and holds 5 or 6 of the 16 copies', async () => {
      const list = await shards();
      for (const n of cluster().nodes) {
        const primaries = list.filter((s) => s.primary === n.id).length;
        const copies = list.filter((s) => s.primary === n.id || s.replicas.includes(n.id)).length;
        expect([2, 3], `${n.id} is primary of ${primaries}`).toContain(primaries);
        expect([5, 6], `${n.id} holds ${copies}`).toContain(copies);
      }
    });
    And('"/cluster/info" says "green" with 3 of 3 nodes healthy and 8 of 8 shards assigned', async () => {
      const info = await getJson<ClusterInfoView & Record<string, unknown>>('/cluster/info');
      expect(info).toMatchObject({ cluster_state: 'green', total_nodes: 3, healthy_nodes: 3, total_shards: 8, assigned_shards: 8 });
      expect(info.cluster_state_reasons).toEqual([]);
    });
  });

  Scenario('A node stopped with SIGTERM hands its shards over and leaves', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('sigterm');
    });
    And('a writer that keeps storing new keys through every coordinator', async () => {
      world.writer = new KvWriter({ prefix: 'g', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    });
    When('a node is asked to shut down with SIGTERM', () => {
      world.target = pickPrimaryNode(world.before!).id;
      process.kill(cluster().pidOf(world.target)!, 'SIGTERM');
    });
    Then('the node exits with code 0 and "/nodes" shows it left, holding no shard copy', async () => {
      const h = cluster();
      const id = world.target!;
      await waitFor(`${id} to exit after handing its shards over`, () => (h.stateOf(id) === 'down' ? true : undefined), { timeoutMs: 60_000 });
      expect(h.lastExitOf(id)?.exitCode).toBe(0);
      expect((await nodeOn(id)).status).toBe('left');
      for (const sh of await shards()) expect([sh.primary, ...sh.replicas]).not.toContain(id);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.waitForAcks(10);
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
  });

  Scenario("A node started with the coordinators' addresses registers itself", ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three of four data nodes', async () => {
      await startCluster('autoreg', { nodes: 4, started: 3 });
      expect((await nodes()).map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    });
    When('the fourth node is started', async () => {
      await cluster().start('n4');
    });
    Then('"/nodes" lists it healthy with its address, its capacity and the version of the package it runs', async () => {
      let last = '';
      const n4 = await waitFor(
        'n4 healthy in /nodes',
        async () => {
          const list = await nodes();
          const n = list.find((x) => x.id === 'n4') as (NodeView & Record<string, unknown>) | undefined;
          last = n === undefined ? `not listed; /nodes: ${list.map((x) => `${x.id} ${x.status}`).join(', ')}; n4 log: ${cluster().linesOf('n4').slice(-5).join(' | ')}` : JSON.stringify(n);
          return n?.status === 'healthy' ? n : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
      );
      expect(n4['address']).toBe(cluster().nodeAddress('n4'));
      expect(n4['capacity']).toBe(cluster().node('n4').capacity);
      expect(n4['version']).toBe(PACKAGE_VERSION);
    });
    And('"/events" shows its registration', async () => {
      const events = (await eventsSince(world.sinceSeq!)).events;
      expect(events.filter((e) => e.kind === 'node-registered' && e.node === 'n4')).toHaveLength(1);
    });
  });

  Scenario('A node joins and a rebalance spreads the copies evenly while the data stays readable', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three of four data nodes', async () => {
      await startCluster('join', { nodes: 4, started: 3 });
    });
    And('a writer that keeps storing new keys through every coordinator', async () => {
      world.writer = new KvWriter({ prefix: 'j', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    });
    When('the fourth node is started and a rebalance is asked for through "POST /cluster/rebalance"', async () => {
      const h = cluster();
      await h.start('n4');
      await waitFor('n4 healthy', async () => ((await nodeOn('n4').catch(() => undefined))?.status === 'healthy' ? true : undefined), { timeoutMs: 20_000 });
      const a = await h.post(h.running(h.voters)[0]!, '/cluster/rebalance', {}, 10_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
    });
    Then(
      'every shard has 2 copies in sync and no node holds two copies more than another, the new node among them, while every acknowledged key read meanwhile answered with its value',
      async () => {
        const via = coordinatorAddresses();
        const wrong: string[] = [];
        let reads = 0;
        let last = '';
        await waitFor(
          'copies even within one over four nodes, n4 holding some',
          async () => {
            // Reads a few acknowledged keys on every poll: the data stays readable during the moves.
            const pairs = [...world.writer!.ackedPairs()];
            for (let i = 0; i < 3 && pairs.length > 0; i++) {
              const [key, value] = pairs[Math.floor(Math.random() * pairs.length)]!;
              // Each read may retry for 5 s (a primary handing over answers 503 for a moment); failures are collected, not thrown.
              const got = await waitFor(`GET ${key}`, async () => {
                const a = await dataRequest(via[reads++ % via.length]!, 'GET', key);
                return a.status === 200 || a.status === 404 ? a : undefined;
              }, { timeoutMs: 5_000, intervalMs: 50 }).catch((e: Error) => e);
              if (got instanceof Error) wrong.push(`${key}: ${got.message}`);
              else if (got.status !== 200 || got.bytes.toString('utf8') !== value) wrong.push(`${key}: ${describeAnswer(got)}`);
            }
            const l = await shards();
            const counts = cluster().nodes.map((n) => l.filter((s) => s.primary === n.id || s.replicas.includes(n.id)).length);
            last = placedOn(l, 2) ?? (Math.max(...counts) - Math.min(...counts) > 1 ? `copies per node ${counts.join(', ')}` : '');
            return last === '' ? true : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 100, describe: () => last },
        );
        expect(reads).toBeGreaterThan(0);
        expect(wrong).toEqual([]);
      },
    );
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
  });

  Scenario('The coordinator leader is killed and the data plane keeps serving', ({ Given, When, Then, And }) => {
    let termBefore = 0;
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('coord-failover');
    });
    And('a writer that keeps storing new keys through every coordinator', async () => {
      world.writer = new KvWriter({ prefix: 'f', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    });
    When('the leader is killed with SIGKILL', async () => {
      const l = await cluster().waitForLeader();
      world.leader = l.id;
      termBefore = l.term;
      await cluster().kill(l.id, 'SIGKILL');
    });
    Then('another replica leads within 10 s, in a higher term', async () => {
      const next = await cluster().waitForLeader({ exclude: [world.leader!], timeoutMs: 10_000 });
      expect(next.id).not.toBe(world.leader);
      expect(next.term).toBeGreaterThan(termBefore);
    });
    And('new keys can still be written', async () => {
      await world.writer!.waitForAcks(20);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
  });

  Scenario('A paused leader cannot split the brain', ({ Given, When, Then, And }) => {
    let next = '';
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('split-brain');
    });
    When('the leader is paused with SIGSTOP and another replica is elected', async () => {
      world.leader = await leader();
      cluster().pause(world.leader);
      next = (await cluster().waitForLeader({ exclude: [world.leader], timeoutMs: 10_000 })).id;
    });
    And("a node's labels are changed through the new leader", async () => {
      const a = await cluster().request(next, 'PUT', '/nodes/n1/labels', { labels: { rack: 'after-split' } }, 5_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
    });
    And('the old leader is resumed', () => {
      cluster().resume(world.leader!);
    });
    Then('no term ever had two leaders and the old leader follows the new one', async () => {
      const h = cluster();
      await waitFor(`${world.leader} to follow ${next}`, async () => {
        const health = await h.health(world.leader!);
        return health?.role === 'follower' && health.leader !== null ? health : undefined;
      }, { timeoutMs: 10_000 });
      expect(h.leaderConflicts()).toEqual([]);
    });
    And('all three replicas converge on the same state hash, with the new labels', async () => {
      await cluster().waitForConvergence();
      for (const id of cluster().voters) {
        const n1 = (await getJson<{ labels: Record<string, string> }>('/nodes/n1/info', id));
        expect(n1.labels, `labels on ${id}`).toEqual({ rack: 'after-split' });
      }
    });
  });

  Scenario('A node never holds more copies than its capacity', ({ Given, When, Then, And }) => {
    let hash = '';
    let answer: { status: number; body: any } = { status: 0, body: undefined };
    Given('a running cluster of three coordinators and three data nodes of capacity 6', async () => {
      await startCluster('capacity', { nodeCapacity: 6 });
    });
    Then('no node holds more than 6 copies and "/nodes" shows each one\'s available capacity', async () => {
      const list = await shards();
      for (const n of (await nodes()) as (NodeView & Record<string, number>)[]) {
        const held = list.filter((s) => s.primary === n.id || s.replicas.includes(n.id)).length;
        expect(held).toBeLessThanOrEqual(6);
        expect(n['capacity']).toBe(6);
        expect(n['shard_count']).toBe(held);
        expect(n['available_capacity']).toBe(6 - held);
      }
    });
    And("the explanation of a shard a full node does not hold names that node's capacity as the rule that keeps a copy off it", async () => {
      const list = await shards();
      const holds = (id: string) => list.filter((s) => s.primary === id || s.replicas.includes(id));
      // 16 copies on three nodes of capacity 6: at least one node is full.
      const full = ['n1', 'n2', 'n3'].find((id) => holds(id).length === 6);
      expect(full, JSON.stringify(list)).toBeDefined();
      const other = list.find((s) => s.primary !== full && !s.replicas.includes(full!));
      expect(other, `a shard ${full} does not hold`).toBeDefined();
      const explained = await getJson<{ nodes: { node: string; reasons: { rule: string; message: string }[] }[] }>(`/shards/${other!.id}/explain`);
      expect(explained.nodes.find((n) => n.node === full)?.reasons).toContainEqual({ rule: 'capacity', message: `${full} holds 6 copies, its capacity is 6` });
    });
    When('one node is put in maintenance, which would leave room for 12 of the 16 copies', async () => {
      hash = (await cluster().waitForConvergence()).stateHash;
      const h = cluster();
      answer = await h.post(h.running(h.voters)[0]!, '/nodes/maintenance', { nodes: ['n1'], enabled: true }, 5_000);
    });
    Then('the request is refused with 409 saying how many nodes are needed, and nothing changed', async () => {
      expect(answer.status, JSON.stringify(answer.body)).toBe(409);
      expect(answer.body.error.message).toMatch(/room for 12 copies; 8 shards × replicationFactor 2 need at least 2 nodes with room for 16 copies/);
      expect((await cluster().waitForConvergence()).stateHash).toBe(hash);
      expect((await nodeOn('n1')).status).toBe('healthy');
    });
  });

  Scenario('The cluster info API', ({ Given, Then }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('info');
    });
    Then(
      '"/cluster/info" on every replica names the same cluster, leader and term, the version of the package, 3 healthy nodes, 8 assigned shards, "green" and an uptime',
      async () => {
        const l = await cluster().waitForLeader({ all: true });
        for (const id of cluster().voters) {
          const info = await getJson<Record<string, unknown>>('/cluster/info', id);
          expect(info, `on ${id}`).toMatchObject({
            cluster_id: `it-${cluster().name}`,
            coordinator_version: PACKAGE_VERSION,
            leader: l.id,
            term: l.term,
            total_nodes: 3,
            healthy_nodes: 3,
            total_shards: 8,
            assigned_shards: 8,
            cluster_state: 'green',
          });
          expect(info['uptime']).toMatch(/^\d+(\.\d+)?(ms|s|m|h|d)/);
          expect(info['uptime_ms']).toBeGreaterThan(0);
          expect(info['leader_address']).toBe(`${cluster().member(l.id).host}:${cluster().member(l.id).apiPort}`);
        }
      },
    );
  });

  Scenario('The node info API shows every field', ({ Given, Then }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('node-info');
    });
    Then(
      '"/nodes/n1/info" on the leader shows its id, address, status, shards, capacity, version, labels, registration, last heartbeat, health, settings version and an uptime that grows',
      async () => {
        const via = await leader();
        const list = await shards(via);
        const held = list.filter((s) => s.primary === 'n1' || s.replicas.includes('n1'));
        // The settings version arrives with the node's second renewal: polled, like the heartbeat.
        const info = await waitFor(
          'n1 info with a heartbeat and a settings version',
          async () => {
            const i = await getJson<Record<string, any>>('/nodes/n1/info', via);
            return i['last_heartbeat'] !== null && i['config_version'] === 1 ? i : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 50 },
        );
        expect(info).toMatchObject({
          id: 'n1',
          address: cluster().nodeAddress('n1'),
          status: 'healthy',
          shard_count: held.length,
          capacity: 16,
          available_capacity: 16 - held.length,
          version: PACKAGE_VERSION,
          labels: {},
          maintenance: null,
          evacuation: null,
          config_version: 1,
          health: { status: 'healthy', path: 'ok', consecutive_failures: 0 },
        });
        expect(Date.now() - Date.parse(info['last_heartbeat'])).toBeLessThan(10_000);
        expect(info['registered_at_ms']).toBeLessThanOrEqual(Date.now());
        expect(info['status_changed_at_ms']).toBeGreaterThanOrEqual(info['registered_at_ms']);
        expect(typeof info['status_reason']).toBe('string');
        expect(info['uptime']).toMatch(/^\d+(\.\d+)?(ms|s|m|h|d)/);
        expect(info['shards'].map((s: { shard: number }) => s.shard).sort((a: number, b: number) => a - b)).toEqual(held.map((s) => s.id));
        for (const s of info['shards'] as { shard: number; role: string; in_sync: boolean; epoch: number }[]) {
          expect(s.role).toBe(list[s.shard]!.primary === 'n1' ? 'primary' : 'replica');
          expect(s.in_sync).toBe(true);
          expect(s.epoch).toBe(list[s.shard]!.epoch);
        }
        await sleep(300);
        const later = await getJson<Record<string, number>>('/nodes/n1/info', via);
        expect(later['uptime_ms']).toBeGreaterThanOrEqual(info['uptime_ms'] + 250);
      },
    );
  });

  Scenario('Several nodes go into maintenance at once and are never declared failed', ({ Given, When, Then, And }) => {
    const pair = ['n3', 'n4'];
    Given('a running cluster of three coordinators and four data nodes', async () => {
      await startCluster('maintenance', { nodes: 4 });
    });
    When('two nodes are put in maintenance with one request "POST /nodes/maintenance"', async () => {
      const h = cluster();
      const a = await h.post(h.running(h.voters)[0]!, '/nodes/maintenance', { nodes: pair, enabled: true, reason: 'firmware', ttlMs: 600_000 }, 5_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
    });
    Then('both show "maintenance" with the reason, and their copies move to the two other nodes', async () => {
      for (const id of pair) expect((await nodeOn(id)) as unknown).toMatchObject({ status: 'maintenance', maintenance: { reason: 'firmware' } });
      let last = '';
      await waitFor(
        'every copy on n1 and n2, in sync',
        async () => {
          const l = await shards();
          const off = l.filter((s) => [s.primary, ...s.replicas].some((n) => n !== null && pair.includes(n)));
          last = off.length > 0 ? `shards ${off.map((s) => s.id).join(', ')} still on ${pair.join('/')}` : (placedOn(l, 2) ?? '');
          return last === '' ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 100, describe: () => last },
      );
    });
    When('one of them is stopped with SIGSTOP for 4 s', async () => {
      cluster().pause('n4');
    });
    Then('it stays in maintenance all along', async () => {
      try {
        await holdsFor('n4 stays in maintenance while stopped', FAILOVER_BOUND_MS + 2_000, async () => {
          const n = await nodeOn('n4');
          return n.status === 'maintenance' ? undefined : `n4 is ${n.status}`;
        });
      } finally {
        cluster().resume('n4');
      }
    });
    And('a request naming an unknown node is refused with 404 naming it, and nothing changed', async () => {
      const h = cluster();
      const hash = (await h.waitForConvergence()).stateHash;
      const a = await h.post(h.running(h.voters)[0]!, '/nodes/maintenance', { nodes: ['n1', 'n9'], enabled: true }, 5_000);
      expect(a.status).toBe(404);
      expect(a.body.error.message).toMatch(/n9/);
      expect((await h.waitForConvergence()).stateHash).toBe(hash);
    });
    When('maintenance is turned off for both', async () => {
      const h = cluster();
      const a = await h.post(h.running(h.voters)[0]!, '/nodes/maintenance', { nodes: pair, enabled: false }, 5_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
    });
    Then('both are healthy members again', async () => {
      let last = '';
      await waitFor(
        'n3 and n4 healthy',
        async () => {
          const list = await nodes();
          last = list.map((n) => `${n.id}: ${n.status}`).join(', ');
          return pair.every((id) => list.find((n) => n.id === id)?.status === 'healthy') ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
      );
      for (const id of pair) expect(((await nodeOn(id)) as unknown as { maintenance: unknown }).maintenance).toBeNull();
    });
  });

  Scenario('A settings change reaches every node, which acknowledges it', ({ Given, When, Then, And }) => {
    let answer: { status: number; body: any } = { status: 0, body: undefined };
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('config');
    });
    When('"PUT /cluster/config?wait=true" lowers maxValueBytes to 1024', async () => {
      const h = cluster();
      const via = h.running(h.voters)[0]!;
      const current = await getJson<{ version: number }>('/cluster/config', via);
      expect(current.version).toBe(1);
      answer = await h.request(via, 'PUT', '/cluster/config?wait=true', { expectedVersion: 1, settings: { maxValueBytes: 1024 } }, 20_000);
    });
    Then('the answer comes once every node runs version 2, and "/nodes" shows config_version 2 for each', async () => {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ version: 2, settings: { maxValueBytes: 1024 }, nodes: { n1: 2, n2: 2, n3: 2 } });
      for (const n of (await nodes()) as (NodeView & { config_version: number | null })[]) expect(n.config_version, n.id).toBe(2);
    });
    And('a value of 2048 bytes is refused with 413 while one of 1000 bytes is stored, through a coordinator and at the primary itself', async () => {
      const via = coordinatorAddresses()[0]!;
      const big = await dataRequest(via, 'PUT', 'config-big', Buffer.alloc(2048, 1));
      expect(big.status, describeAnswer(big)).toBe(413);
      const small = await dataRequest(via, 'PUT', 'config-small', Buffer.alloc(1000, 2));
      expect(small.status, describeAnswer(small)).toBe(204);
      // The node itself runs the new limit (it took it with its lease grant), not only the coordinators.
      const shard = (await shards())[shardForKey('config-direct', SHARDS)]!;
      const direct = await dataRequest(cluster().nodeAddress(shard.primary!), 'PUT', 'config-direct', Buffer.alloc(2048, 3), { query: { epoch: shard.epoch } });
      expect(direct.status, describeAnswer(direct)).toBe(413);
      const fits = await dataRequest(cluster().nodeAddress(shard.primary!), 'PUT', 'config-direct', Buffer.alloc(1000, 3), { query: { epoch: shard.epoch } });
      expect(fits.status, describeAnswer(fits)).toBe(204);
    });
  });

  Scenario('A node is evacuated with progress and nothing is lost', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('evacuate');
    });
    And('a writer that keeps storing new keys through every coordinator', async () => {
      world.writer = new KvWriter({ prefix: 'e', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    });
    When('node n1 is evacuated through "POST /nodes/n1/evacuate"', async () => {
      const h = cluster();
      const a = await h.post(h.running(h.voters)[0]!, '/nodes/n1/evacuate', { reason: 'disk errors' }, 5_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body).toMatchObject({ status: 'evacuating', evacuation: { state: 'running', reason: 'disk errors' } });
      expect(a.body.evacuation.total).toBeGreaterThan(0);
    });
    Then('"/nodes/n1/info" shows the evacuation\'s progress, never done while n1 holds a copy', async () => {
      const seen = new Set<number>();
      const violations: string[] = [];
      let last = '';
      await waitFor(
        'n1 evacuated',
        async () => {
          const i = await getJson<{ status: string; shard_count: number; evacuation: { state: string; total: number; moved: number; remaining: number } }>('/nodes/n1/info');
          last = JSON.stringify(i.evacuation);
          const e = i.evacuation;
          // Collected, not thrown: waitFor would take a throw for "not yet" and poll on.
          if (e.moved + e.remaining !== e.total) violations.push(`moved ${e.moved} + remaining ${e.remaining} ≠ total ${e.total}`);
          if (e.remaining !== i.shard_count) violations.push(`remaining ${e.remaining} while n1 holds ${i.shard_count}`);
          if (e.state === 'done' && i.shard_count !== 0) violations.push(`done while n1 holds ${i.shard_count}`);
          seen.add(e.remaining);
          return e.state === 'done' ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 50, describe: () => last },
      );
      expect(violations).toEqual([]);
      expect(seen.size, 'progress seen at more than one point').toBeGreaterThan(1);
    });
    And('n1 ends in maintenance holding no copy, the evacuation done with every copy moved', async () => {
      const i = await getJson<{ status: string; shard_count: number; evacuation: { state: string; total: number; moved: number; remaining: number; stalled_reason: string | null } }>('/nodes/n1/info');
      expect(i.status).toBe('maintenance');
      expect(i.shard_count).toBe(0);
      expect(i.evacuation).toMatchObject({ state: 'done', remaining: 0, stalled_reason: null });
      expect(i.evacuation.moved).toBe(i.evacuation.total);
      for (const sh of await shards()) expect([sh.primary, ...sh.replicas]).not.toContain('n1');
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
  });

  Scenario('Coordinators and nodes export metrics', ({ Given, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('metrics');
    });
    Then('the leader\'s "/metrics" shows it leads, 3 healthy nodes, the copies per node and a green cluster', async () => {
      const text = String((await cluster().get(await leader(), '/metrics', 5_000)).body);
      expect(text).toMatch(/^torua_raft_is_leader(\{[^}]*\})? 1$/m);
      expect(text).toMatch(/^torua_nodes\{[^}]*status="healthy"[^}]*\} 3$/m);
      expect(text).toMatch(/^torua_cluster_state\{[^}]*state="green"[^}]*\} 1$/m);
      const list = await shards();
      for (const n of cluster().nodes) {
        const primaries = list.filter((s) => s.primary === n.id).length;
        expect(text).toMatch(new RegExp(`^torua_node_shards\\{[^}]*node="${n.id}"[^}]*role="primary"[^}]*\\} ${primaries}$`, 'm'));
      }
    });
    And('every data node\'s "/metrics" answers with its own metrics', async () => {
      for (const n of cluster().nodes) {
        const a = await httpRequest(n.host, n.port, 'GET', '/metrics', undefined, 5_000);
        expect(a.status).toBe(200);
        expect(String(a.body)).toMatch(new RegExp(`^torua_\\w+\\{[^}]*node="${n.id}"`, 'm'));
      }
    });
  });

  Scenario('The coordinators agree on every change', ({ Given, When, Then, And }) => {
    const CHANGES = 20;
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('consensus');
    });
    When('20 label changes are made, each through another replica', async () => {
      const h = cluster();
      for (let i = 0; i < CHANGES; i++) {
        const via = h.voters[i % h.voters.length]!;
        const a = await h.request(via, 'PUT', '/nodes/n2/labels', { labels: { round: String(i) } }, 5_000);
        expect(a.status, `change ${i} through ${via}: ${JSON.stringify(a.body)}`).toBe(200);
      }
    });
    Then('every replica shows the last labels in a linearizable read', async () => {
      for (const id of cluster().voters) {
        expect((await getJson<{ labels: Record<string, string> }>('/nodes/n2/info', id)).labels, `on ${id}`).toEqual({ round: String(CHANGES - 1) });
      }
    });
    And('all three replicas converge on the same applied index and state hash', async () => {
      const { stateHash } = await cluster().waitForConvergence();
      const all = await cluster().healthOfAll(cluster().voters);
      expect(all.size).toBe(3);
      for (const [id, h] of all) expect(h.state_hash, id).toBe(stateHash);
      const events = (await eventsSince(world.sinceSeq!)).events.filter((e) => e.kind === 'node-labels' && e.node === 'n2');
      expect(events).toHaveLength(CHANGES);
    });
  });

  Scenario('Load-based rebalancing spreads a skewed load without flapping', ({ Given, When, Then, And }) => {
    const HOT_RATIO = 1.8;
    let hot = '';
    let keys: string[] = [];
    let failed: string[] = [];
    let loadEvents: EventView[] = [];
    const loadOf = (n: { load: { reads_per_s: number; writes_per_s: number } | null }) => (n.load === null ? 0 : n.load.reads_per_s + n.load.writes_per_s);
    /** The hot node's load over the mean, as the leader sees the reports (followers show none). */
    const hotRatio = async (): Promise<{ ratio: number; text: string }> => {
      const list = (await cluster().get(await leader(), '/nodes', 5_000)).body as { nodes: { id: string; load: { reads_per_s: number; writes_per_s: number } | null }[] };
      const loads = list.nodes.map((n) => [n.id, loadOf(n)] as const);
      const mean = loads.reduce((a, [, l]) => a + l, 0) / loads.length;
      return { ratio: mean === 0 ? 0 : (loads.find(([id]) => id === hot)?.[1] ?? 0) / mean, text: JSON.stringify(loads) };
    };
    Given('a running cluster of three coordinators and three data nodes with a hot window of 2 s', async () => {
      await startCluster('hot', { settings: { placement: { hotWindowMs: 2_000 } } });
    });
    And('readers that send 80% of their requests to the shards one node leads', async () => {
      const picked = pickPrimaryNode(world.before!);
      hot = picked.id;
      const hotShards = new Set(picked.primaryOf);
      keys = Array.from({ length: 300 }, (_, i) => `hot-${i}`);
      const kv: KvClient = createKvClient({ coordinators: coordinatorAddresses() });
      for (const k of keys) await kv.put(k, `v-${k}`);
      const hotKeys = keys.filter((k) => hotShards.has(shardForKey(k, SHARDS)));
      const coldKeys = keys.filter((k) => !hotShards.has(shardForKey(k, SHARDS)));
      expect(hotKeys.length).toBeGreaterThan(0);
      world.sinceSeq = (await eventsSince(0)).last_seq;
      let stop = false;
      failed = [];
      const until = now() + 150_000;
      const reader = async (w: number) => {
        for (let i = 0; !stop && i < 1_000_000 && now() < until; i++) {
          const list = i % 5 === 4 ? coldKeys : hotKeys;
          await kv.getText(list[(i * 7 + w) % list.length]!).catch((e: unknown) => {
            if (failed.length < 20) failed.push(e instanceof Error ? e.message : String(e));
          });
        }
      };
      const running = Array.from({ length: 6 }, (_, w) => reader(w));
      world.readers = {
        stop: async () => {
          stop = true;
          await Promise.all(running);
          kv.close();
        },
      };
    });
    When('the leader\'s "/nodes" shows that node carrying at least 1.8 times the mean load', async () => {
      let last = '';
      await waitFor(
        `${hot} hot`,
        async () => {
          const r = await hotRatio();
          last = r.text;
          // A load move may already have happened; then the node was hot.
          const moved = (await eventsSince(world.sinceSeq!)).events.some((e) => e.reason.startsWith(`load: ${hot} at `));
          return r.ratio >= HOT_RATIO || moved ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, describe: () => last },
      );
    });
    Then('the leader moves load off it, each move a committed event whose reason starts "load: NODE at" and names the mean', async () => {
      loadEvents = await waitFor(
        'a load move',
        async () => {
          const list = (await eventsSince(world.sinceSeq!)).events.filter((e) => e.reason.startsWith('load: '));
          return list.length > 0 ? list : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      for (const e of loadEvents) expect(e.reason).toMatch(new RegExp(`^load: ${hot} at \\d+(\\.\\d)?× mean \\([\\d.]+ of mean [\\d.]+ req/s\\); shard \\d+ serves `));
    });
    And('every handoff for load left the old primary in sync, copying nothing, and every copy added for load ended with the hot node\'s copy dropped', async () => {
      let last = '';
      // Wait until the hot node is below the ratio: by then every relocation started has finished.
      await waitFor(
        `${hot} below ${HOT_RATIO}× mean, no relocation open`,
        async () => {
          const r = await hotRatio();
          loadEvents = (await eventsSince(world.sinceSeq!)).events.filter((e) => e.reason.startsWith('load: '));
          const added = loadEvents.filter((e) => e.reason.includes('gets a copy')).length;
          const finished = loadEvents.filter((e) => e.reason.includes('copy is dropped')).length;
          last = `${r.text}; ${added} copies added, ${finished} handed over`;
          return r.ratio < HOT_RATIO && added === finished ? true : undefined;
        },
        { timeoutMs: 75_000, intervalMs: 500, describe: () => last },
      );
      for (const e of loadEvents.filter((x) => x.kind === 'shard-promoted')) expect(e.message, e.message).toMatch(new RegExp(`primary ${hot} → n\\d+, ${hot} stays in sync`));
      for (const e of loadEvents.filter((x) => x.reason.includes('copy is dropped'))) {
        expect(e.kind).toBe('shard-moved');
        expect(e.message).toMatch(new RegExp(`primary ${hot}, .* → primary n\\d+, replicas \\[[^\\]]*\\]`));
        expect(e.message.split('→').at(-1)).not.toContain(hot);
      }
      // Copying nothing: no copy joined the in-sync set but the ones added for load (a resynced old primary would), none left it.
      const all = (await eventsSince(world.sinceSeq!)).events;
      expect(all.filter((e) => e.kind === 'shard-out-of-sync').map((e) => e.message)).toEqual([]);
      expect(all.filter((e) => e.kind === 'shard-in-sync').length).toBe(loadEvents.filter((e) => e.reason.includes('gets a copy')).length);
      const table = await shards();
      for (const s of table) expect(s.in_sync.length, `shard ${s.id}: ${JSON.stringify(s)}`).toBe(2);
    });
    And('the node ends below 1.8 times the mean load, and no load event moves a shard back to it for 8 s', async () => {
      const seen = loadEvents.length;
      await holdsFor('no flapping', 8_000, async () => {
        const after = (await eventsSince(world.sinceSeq!)).events.filter((e) => e.reason.startsWith('load: ')).slice(seen);
        const back = after.find((e) => !e.reason.startsWith(`load: ${hot} at `));
        return back === undefined ? undefined : `load moved onto another node's shards: ${back.reason}`;
      }, 500);
      expect((await hotRatio()).ratio).toBeLessThan(HOT_RATIO);
    });
    And('no read failed, and every key is still readable with its value', async () => {
      await world.readers!.stop();
      world.readers = undefined;
      expect(failed).toEqual([]);
      const kv = createKvClient({ coordinators: coordinatorAddresses() });
      try {
        for (const k of keys) expect(await kv.getText(k)).toBe(`v-${k}`);
      } finally {
        kv.close();
      }
    });
  });

  Scenario('A rolling upgrade restarts one process at a time and loses nothing', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('upgrade');
    });
    And('a writer that keeps storing new keys through every coordinator', async () => {
      world.writer = new KvWriter({ prefix: 'u', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    });
    And('a copy of the build whose package.json says the next patch version', async () => {
      const to = nextPatch(PACKAGE_VERSION);
      const main = await copyOfBuild(await fsp.mkdtemp(path.join(cluster().dir, 'next-')), to);
      const { stdout } = await execa(process.execPath, [main, '--version']);
      expect(stdout.trim()).toBe(`torua ${to}`);
      world.upgrade = { to, main, seen: [] };
      // Every shard holds data by now, so a copy that catches up has something of its own to keep.
      await world.writer!.waitForAcks(200);
    });
    When('"torua upgrade" runs with a restart command that starts each process from that copy', async () => {
      const h = cluster();
      const u = world.upgrade!;
      world.sinceSeq = (await eventsSince(0)).last_seq;
      const { command, close } = await restartServer(h, () => u.main);
      world.closeRestarts = close;
      const cli = execa(process.execPath, [MAIN_JS, 'upgrade', '--to', u.to, '--restart', command, '--timeout', '45s', '--coordinators', coordinatorAddresses().join(',')], {
        reject: false,
        all: true,
        timeout: 100_000,
      });
      let finished = false;
      void cli.finally(() => (finished = true));
      while (!finished) {
        const [info, nodes] = await Promise.all([
          getJson<{ upgrade: { current: string | null; done: string[] } | null }>('/cluster/info?stale=true').catch(() => undefined),
          getJson<{ nodes: { status: string }[] }>('/nodes?stale=true').catch(() => undefined),
        ]);
        if (info?.upgrade && nodes) u.seen.push({ current: info.upgrade.current, done: info.upgrade.done, restarting: nodes.nodes.filter((n) => n.status === 'restarting').length });
        await sleep(100);
      }
      const result = await cli;
      u.exitCode = result.exitCode;
      u.output = result.all;
    });
    Then('"/cluster/info" shows the upgrade\'s progress while it runs, never more than one node restarting, the data nodes before the coordinators', async () => {
      const { seen } = world.upgrade!;
      expect(new Set(seen.map((s) => s.current).filter((c) => c !== null)).size, 'processes seen being restarted').toBeGreaterThan(2);
      expect(Math.max(...seen.map((s) => s.restarting))).toBe(1);
      for (const s of seen) {
        if (s.current?.startsWith('c')) expect(s.done.slice(0, 3), 'data nodes done before a coordinator restarts').toEqual(['n1', 'n2', 'n3']);
      }
    });
    And('the command exits 0, and every node and coordinator reports the new version, the nodes healthy', async () => {
      const { to, exitCode, output } = world.upgrade!;
      expect(exitCode, output).toBe(0);
      const info = await getJson<{ upgrade: { state: string; done: string[] } }>('/cluster/info');
      expect(info.upgrade).toMatchObject({ state: 'done' });
      expect(info.upgrade.done.slice(0, 3)).toEqual(['n1', 'n2', 'n3']);
      expect([...info.upgrade.done.slice(3)].sort()).toEqual(['c1', 'c2', 'c3']);
      const nodes = (await getJson<{ nodes: { id: string; status: string; version: string }[] }>('/nodes')).nodes;
      expect(nodes.map((n) => [n.id, n.status, n.version])).toEqual(['n1', 'n2', 'n3'].map((id) => [id, 'healthy', to]));
      for (const id of cluster().voters) expect((await getJson<{ coordinator_version: string }>('/cluster/info?stale=true', id)).coordinator_version, id).toBe(to);
    });
    And('every copy that left the in-sync set caught up from its own data, none copied whole', async () => {
      const page = await eventsSince(world.sinceSeq!);
      expect(page.events[0]?.seq, 'no event dropped from the ring since the upgrade began').toBe(world.sinceSeq! + 1);
      const rejoined = page.events.filter((e) => e.kind === 'shard-in-sync');
      expect(rejoined.length).toBeGreaterThan(0);
      expect(rejoined.filter((e) => !/caught up from/.test(e.reason)).map((e) => e.reason)).toEqual([]);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
  });
});
