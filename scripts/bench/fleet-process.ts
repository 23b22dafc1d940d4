/**
 * A fleet of impersonated data nodes in one process, for the leader-load
 * bench and test (`npm run bench -- fleet`, test/integration/fleet.test.ts):
 *
 *   node dist/scripts/bench/fleet-process.js --coordinators a,b,c --nodes N
 *        --control-port P [--dead D] [--host-prefix 127.0.1] [--per-host 250]
 *
 * Each of the N live nodes listens on its own address (loopback aliases
 * `<prefix>.1`, `<prefix>.2` …, `perHost` nodes each, ports picked by the
 * system), registers through `nodes.register` and keeps its lease with the
 * real node's LeaseHolder and LeaseRenewer (through any replica, followers
 * preferred; one connection pool for all, see renewalAgent; registration
 * through one cluster client per alias, dialling from it), and answers `GET /health` as a data
 * node does. The D dead nodes are only registered, at an address where
 * nothing listens: what a leader sees of machines that are down.
 *
 * The parent drives it over a small HTTP control port on 127.0.0.1:
 * `GET /stats[?reset=1]` (probe intervals per node, renewals), `POST
 * /hang/<id>` (the node stops answering probes and stops renewing, as a hung
 * process would), `POST /stop`.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { realTimers } from '../../src/common/clock.js';
import { createClusterClient, type ClusterClient } from '../../src/client/index.js';
import { LeaseHolder } from '../../src/datanode/lease.js';
import { nodeSettings } from '../../src/datanode/options.js';
import type { CoordinatorLink, HeldCopy } from '../../src/datanode/contract.js';
import { LeaseRenewer } from '../../src/cli/lease-renewer.js';
import { createCoordinatorLink } from '../../src/cli/node-links.js';
import { NODE_VERSION } from '../../src/cli/node-process.js';
import { silentLogger } from '../../src/observability/memory-logger.js';

interface FleetNode {
  readonly id: string;
  readonly host: string;
  port: number;
  readonly identity: string;
  readonly link: CoordinatorLink;
  /** Renewals go as a real node's do: through any replica, followers preferred (lease-renewer.ts). */
  readonly renewals: CoordinatorLink;
  server: http.Server | undefined;
  keeper: LeaseHolder | undefined;
  registered: boolean;
  hung: boolean;
  lastProbeMs: number | null;
  probes: number;
  lastGrantMs: number | null;
  /** The copies its last grant gave it: reported back as a real node reports the copies it holds. */
  held: HeldCopy[];
}

/** Probe intervals kept for the stats (a ring: the latest this many). */
const MAX_INTERVALS = 200_000;
/** A request held by a hung node is dropped after this (bounded memory). */
const HUNG_HOLD_MS = 30_000;
/** Registrations in flight: the leader commits those that arrive together in one Raft batch. */
const REGISTER_CONCURRENCY = 16;
const REGISTER_ATTEMPTS = 20;
/** Copies a fleet node may be given: it stores nothing, so any table fits (4,096 shards × RF 2 over 100 nodes is 82 each). */
const CAPACITY = 1_024;

const { values } = parseArgs({
  options: {
    coordinators: { type: 'string' },
    nodes: { type: 'string' },
    dead: { type: 'string', default: '0' },
    'control-port': { type: 'string' },
    'host-prefix': { type: 'string', default: '127.0.1' },
    'per-host': { type: 'string', default: '250' },
    'id-prefix': { type: 'string', default: 'f' },
  },
});

function intArg(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`fleet: --${name} must be an integer from ${min} to ${max}, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const coordinators = (values.coordinators ?? '').split(',').filter((s) => s.length > 0);
if (coordinators.length === 0) {
  process.stderr.write('fleet: --coordinators a,b,c is required\n');
  process.exit(2);
}
const liveCount = intArg('nodes', values.nodes, 0, 10_000);
const deadCount = intArg('dead', values.dead, 0, 20_000);
const controlPort = intArg('control-port', values['control-port'], 1, 65_535);
const perHost = intArg('per-host', values['per-host'], 1, 5_000);
const hostPrefix = values['host-prefix']!;
const idPrefix = values['id-prefix']!;

const now = (): number => performance.now();
const started = now();
const abort = new AbortController();
// Every node's attempts listen to it: as many listeners as nodes are in flight, not a leak.
setMaxListeners(0, abort.signal);
const nodes: FleetNode[] = [];
const byAddress = new Map<string, FleetNode>();
const links = new Map<string, CoordinatorLink>();
let intervals: number[] = [];
let intervalAt = 0;
/** Time between two grants of one node (the leader's view of it: a renewal is its proof of life). */
let grantIntervals: number[] = [];
let grantIntervalAt = 0;
let renewalsOk = 0;
let renewalsFailed = 0;
/** Why renewals failed (the first words of the error), counted; at most 50 distinct. */
const failureReasons = new Map<string, number>();
let windowStartMs = now();
const held = new Set<http.ServerResponse>();

const clients = new Map<string, ClusterClient>();
/**
 * The renewals of every impersonated node share one pool of connections,
 * dialled without a fixed local address. A real node has its own few; here a
 * thousand live in one process, and dialling from a fixed alias makes the
 * kernel search that alias's ports for a free one on every new connection
 * (with thousands in TIME_WAIT, most of the fleet's CPU), which a timed-out
 * attempt's closed connection then repeats. The coordinators do not look at
 * where a renewal comes from; probes still reach each node at its alias.
 */
const renewalAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function clientFor(host: string): ClusterClient {
  let client = clients.get(host);
  if (client === undefined) clients.set(host, (client = createClusterClient({ coordinators, localAddress: host })));
  return client;
}

function linkFor(host: string): CoordinatorLink {
  let link = links.get(host);
  if (link === undefined) {
    link = createCoordinatorLink(clientFor(host));
    links.set(host, link);
  }
  return link;
}

function hostOf(i: number): string {
  return `${hostPrefix}.${1 + Math.floor(i / perHost)}`;
}

/** Counts renewals as the keeper makes them. */
function counted(link: CoordinatorLink): CoordinatorLink {
  return {
    ...link,
    async renewLease(req, signal) {
      try {
        const grant = await link.renewLease(req, signal);
        renewalsOk++;
        return grant;
      } catch (e) {
        renewalsFailed++;
        const why = (e instanceof Error ? e.message : String(e)).slice(0, 80);
        if (failureReasons.size < 50 || failureReasons.has(why)) failureReasons.set(why, (failureReasons.get(why) ?? 0) + 1);
        throw e;
      }
    },
  };
}

function noteGrant(node: FleetNode): void {
  const t = now();
  if (node.lastGrantMs !== null) {
    if (grantIntervals.length < MAX_INTERVALS) grantIntervals.push(t - node.lastGrantMs);
    else grantIntervals[grantIntervalAt++ % MAX_INTERVALS] = t - node.lastGrantMs;
  }
  node.lastGrantMs = t;
}

function answerProbe(node: FleetNode, res: http.ServerResponse): void {
  const t = now();
  if (node.lastProbeMs !== null) {
    if (intervals.length < MAX_INTERVALS) intervals.push(t - node.lastProbeMs);
    else intervals[intervalAt++ % MAX_INTERVALS] = t - node.lastProbeMs;
  }
  node.lastProbeMs = t;
  node.probes++;
  const body = JSON.stringify({ status: 'ok', id: node.id, lease: node.keeper?.info() ?? { valid: false, remainingMs: 0, leader: null, term: null } });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function onNodeRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const node = byAddress.get(`${req.socket.localAddress}:${req.socket.localPort}`);
  req.resume();
  if (node === undefined || req.url !== '/health') {
    res.writeHead(404).end();
    return;
  }
  if (node.hung) {
    // A hung process answers nothing; the request is dropped later so memory stays bounded.
    held.add(res);
    setTimeout(() => {
      held.delete(res);
      res.destroy();
    }, HUNG_HOLD_MS).unref();
    return;
  }
  answerProbe(node, res);
}

function listen(node: FleetNode): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = http.createServer({ keepAlive: true }, onNodeRequest);
    server.once('error', reject);
    server.listen({ host: node.host, port: 0 }, () => {
      node.port = (server.address() as { port: number }).port;
      node.server = server;
      byAddress.set(`${node.host}:${node.port}`, node);
      resolve();
    });
  });
}

/** Registers a node as the real one does, retrying (a leader change, an overloaded leader) a bounded number of times. */
async function register(link: CoordinatorLink, id: string, address: string, identity: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await link.register({ id, address, capacity: CAPACITY, version: NODE_VERSION, identity }, AbortSignal.timeout(10_000));
      return;
    } catch (e) {
      if (attempt >= REGISTER_ATTEMPTS || abort.signal.aborted) throw e;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

function startKeeper(node: FleetNode): void {
  node.keeper = new LeaseHolder({
    id: node.id,
    identity: node.identity,
    coordinators: counted(node.renewals),
    logger: silentLogger,
    clock: { nowMs: now },
    timers: realTimers,
    settings: nodeSettings({ id: node.id, address: `${node.host}:${node.port}`, dataDir: '', capacity: CAPACITY, version: NODE_VERSION }),
    signal: abort.signal,
    recoveries: () => [],
    holdings: () => node.held,
    onGrant: (grant) => {
      node.held = grant.shards.map((a) => ({ shard: a.id, epoch: a.epoch, lastSeq: 0, primary: a.primary, inSync: a.inSync.includes(node.id) }));
      noteGrant(node);
    },
    onLeaseChange: () => undefined,
  });
  node.keeper.start();
}

/** Runs `work` over `items`, `limit` at a time. */
async function pooled<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !abort.signal.aborted) await work(items[next++]!);
  });
  await Promise.all(runners);
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function summary(values: readonly number[]): Record<string, number | null> {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p1: percentile(sorted, 0.01),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1]!,
    min: sorted.length === 0 ? null : sorted[0]!,
  };
}

function stats(reset: boolean): Record<string, unknown> {
  const live = nodes.filter((n) => !n.hung);
  const out = {
    uptimeMs: Math.round(now() - started),
    windowMs: Math.round(now() - windowStartMs),
    live: liveCount,
    dead: deadCount,
    registered: nodes.filter((n) => n.registered).length,
    ready: phase === 'ready',
    failure: failure ?? null,
    renewalsOk,
    renewalsFailed,
    failureReasons: Object.fromEntries(failureReasons),
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    leasesValid: live.filter((n) => n.keeper?.valid() === true).length,
    probes: nodes.reduce((s, n) => s + n.probes, 0),
    neverProbed: live.filter((n) => n.probes === 0).length,
    probeIntervalMs: summary(intervals),
    renewalIntervalMs: summary(grantIntervals),
  };
  if (reset) {
    intervals = [];
    intervalAt = 0;
    grantIntervals = [];
    grantIntervalAt = 0;
    renewalsOk = 0;
    renewalsFailed = 0;
    failureReasons.clear();
    windowStartMs = now();
    for (const n of nodes) n.probes = 0;
  }
  return out;
}

let phase: 'starting' | 'ready' | 'failed' = 'starting';
let failure: string | undefined;

function control(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://fleet');
  const send = (status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
  };
  if (req.method === 'GET' && url.pathname === '/stats') return send(200, stats(url.searchParams.get('reset') === '1'));
  if (req.method === 'GET' && url.pathname === '/nodes') return send(200, { live: nodes.map((n) => ({ id: n.id, address: `${n.host}:${n.port}` })) });
  const hang = /^\/hang\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'POST' && hang !== null) {
    const node = nodes.find((n) => n.id === hang[1]);
    if (node === undefined) return send(404, { error: `no fleet node ${hang[1]}` });
    node.hung = true;
    node.keeper?.stop();
    return send(200, { hung: node.id });
  }
  if (req.method === 'POST' && url.pathname === '/stop') {
    send(200, { stopping: true });
    void shutdown(0);
    return;
  }
  send(404, { error: 'unknown control request' });
}

async function shutdown(code: number): Promise<void> {
  abort.abort();
  for (const n of nodes) n.keeper?.stop();
  for (const r of held) r.destroy();
  for (const n of nodes) n.server?.closeAllConnections();
  await Promise.all(nodes.map((n) => new Promise<void>((r) => (n.server === undefined ? r() : n.server.close(() => r())))));
  process.exit(code);
}

async function main(): Promise<void> {
  const controlServer = http.createServer(control);
  await new Promise<void>((resolve, reject) => {
    controlServer.once('error', reject);
    controlServer.listen({ host: '127.0.0.1', port: controlPort }, resolve);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shutdown(130));
  for (let i = 0; i < liveCount; i++) {
    const host = hostOf(i);
    const link = linkFor(host);
    const renewals = createCoordinatorLink(clientFor(host), { renewer: new LeaseRenewer({ coordinators, agent: renewalAgent }) });
    nodes.push({ id: `${idPrefix}${i + 1}`, host, port: 0, identity: randomUUID(), link, renewals, server: undefined, keeper: undefined, registered: false, hung: false, lastProbeMs: null, probes: 0, lastGrantMs: null, held: [] });
  }
  for (const n of nodes) await listen(n);
  process.stderr.write(`fleet: ${nodes.length} nodes listening, registering …\n`);
  await pooled(nodes, REGISTER_CONCURRENCY, async (n) => {
    await register(n.link, n.id, `${n.host}:${n.port}`, n.identity);
    n.registered = true;
    startKeeper(n);
  });
  // Dead nodes: an alias past the live ones, port 9 (discard), where nothing of ours listens.
  const dead = Array.from({ length: deadCount }, (_, i) => ({ id: `${idPrefix}dead${i + 1}`, host: hostOf(liveCount + i), identity: randomUUID() }));
  await pooled(dead, REGISTER_CONCURRENCY, (d) => register(linkFor(d.host), d.id, `${d.host}:9`, d.identity));
  phase = 'ready';
  process.stderr.write(`fleet: ${nodes.length} live and ${deadCount} dead nodes registered after ${Math.round(now() - started)} ms\n`);
}

main().catch((e: unknown) => {
  phase = 'failed';
  failure = e instanceof Error ? e.message : String(e);
  process.stderr.write(`fleet: ${failure}\n`);
});
