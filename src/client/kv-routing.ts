/**
 * The smart client's copy of the routing table (shards and node addresses),
 * read from any coordinator. The first read is stale (any replica answers
 * from its table, fast); after an answer that says the table moved on, a
 * linearizable one. Refreshes are coalesced: one read at a time, and a
 * caller whose request failed on table N takes any linearizable table newer
 * than N, here or on the way, so many callers failing together on one
 * table cost one read.
 */
import { z } from 'zod';
import { shardForKey } from '../common/key-hash.js';
import { parseAddress } from './addresses.js';
import type { HttpTarget } from '../data-wire/http-exchange.js';

export type TableConsistency = 'stale' | 'linearizable';

export interface ShardRoute {
  readonly shard: number;
  readonly epoch: number;
  readonly primary: string | null;
}

export interface NodeRoute extends HttpTarget {
  readonly id: string;
  /** `host:port`. */
  readonly address: string;
}

/** The answers of `shards.list` and `nodes.list`, unchecked: they come from another process. */
export interface RawTable {
  readonly shards: unknown;
  readonly nodes: unknown;
}

export type TableSource = (consistency: TableConsistency) => Promise<RawTable>;

const MAX_SHARDS = 65_536;
const MAX_NODES = 100_000;

const shardsSchema = z
  .array(
    z.object({
      id: z.number().int().min(0).max(MAX_SHARDS - 1),
      epoch: z.number().int().min(0),
      primary: z.string().min(1).max(256).nullable(),
    }),
  )
  .min(1)
  .max(MAX_SHARDS)
  .refine((shards) => shards.every((s, i) => s.id === i), { message: 'expected shards 0..N-1 in order' });

const nodesSchema = z.array(z.object({ id: z.string().min(1).max(256), address: z.string().max(512) })).max(MAX_NODES);

function nodeRoute(id: string, address: string): NodeRoute | undefined {
  try {
    const parsed = parseAddress(address);
    const url = new URL(parsed.origin);
    return { id, address: parsed.address, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) };
  } catch {
    // A node registered with an address we cannot dial: its shards answer "no address" until it re-registers.
    return undefined;
  }
}

export class RoutingSnapshot {
  constructor(
    /** Counts the tables this client has read: 1, 2, 3 … */
    readonly generation: number,
    readonly consistency: TableConsistency,
    readonly shards: readonly ShardRoute[],
    private readonly nodes: ReadonlyMap<string, NodeRoute>,
  ) {}

  shardOf(key: string): ShardRoute {
    return this.shards[shardForKey(key, this.shards.length)] as ShardRoute;
  }

  node(id: string): NodeRoute | undefined {
    return this.nodes.get(id);
  }
}

/** Why a table read answered something unusable, in words. */
export function tableProblem(err: z.ZodError, what: string): string {
  const issue = err.issues[0];
  return `${what}: ${issue === undefined ? 'unexpected shape' : `${issue.path.join('.') || '(top)'}: ${issue.message}`}`;
}

export function parseTable(raw: RawTable, generation: number, consistency: TableConsistency): RoutingSnapshot {
  const shards = shardsSchema.safeParse(raw.shards);
  if (!shards.success) throw new TypeError(tableProblem(shards.error, 'the routing table from the coordinators: shards'));
  const nodes = nodesSchema.safeParse(raw.nodes);
  if (!nodes.success) throw new TypeError(tableProblem(nodes.error, 'the routing table from the coordinators: nodes'));
  const byId = new Map<string, NodeRoute>();
  for (const n of nodes.data) {
    const route = nodeRoute(n.id, n.address);
    if (route !== undefined) byId.set(n.id, route);
  }
  const routes = shards.data.map((s) => ({ shard: s.id, epoch: s.epoch, primary: s.primary }));
  return new RoutingSnapshot(generation, consistency, routes, byId);
}

interface Load {
  readonly consistency: TableConsistency;
  readonly promise: Promise<RoutingSnapshot>;
}

export class RoutingCache {
  private snapshot: RoutingSnapshot | undefined;
  private generation = 0;
  private inflight: Load | undefined;
  private queued: Promise<RoutingSnapshot> | undefined;

  constructor(private readonly source: TableSource) {}

  /** The table last read, if any (the hot path reads it without a promise). */
  get current(): RoutingSnapshot | undefined {
    return this.snapshot;
  }

  /** The table, read (stale) on first use. */
  table(): Promise<RoutingSnapshot> {
    if (this.snapshot !== undefined) return Promise.resolve(this.snapshot);
    return (this.inflight ?? this.start('stale')).promise;
  }

  /**
   * A table newer than generation `seen` (the one a failed request was
   * routed by), read linearizably: the one here if it is such, else the
   * read in flight if it is linearizable (it began after `seen` was
   * installed), else a new one (queued behind a stale read in flight).
   */
  refresh(seen: number): Promise<RoutingSnapshot> {
    const have = this.snapshot;
    if (have !== undefined && have.generation > seen && have.consistency === 'linearizable') return Promise.resolve(have);
    const running = this.inflight;
    if (running === undefined) return this.start('linearizable').promise;
    if (running.consistency === 'linearizable') return running.promise;
    if (this.queued === undefined) {
      const ignore = (): void => undefined;
      this.queued = running.promise.then(ignore, ignore).then(() => {
        this.queued = undefined;
        return this.start('linearizable').promise;
      });
    }
    return this.queued;
  }

  private start(consistency: TableConsistency): Load {
    const promise = this.source(consistency).then((raw) => {
      const snapshot = parseTable(raw, ++this.generation, consistency);
      this.snapshot = snapshot;
      return snapshot;
    });
    const load: Load = { consistency, promise };
    this.inflight = load;
    const clear = (): void => {
      if (this.inflight === load) this.inflight = undefined;
    };
    promise.then(clear, clear);
    return load;
  }
}
