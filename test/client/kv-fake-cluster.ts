/**
 * What the KV client tests run against: the real coordinator API over a fake
 * service (test/api/fake-service.ts) holding a real routing table, and
 * in-process data nodes (node:http) that fence like real ones: a node serves
 * a key only as its shard's primary at the epoch the request names, as the
 * fake service's table says, and a test can script other answers.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach } from 'vitest';
import type { Command } from '../../src/coordinator/routing/index.js';
import type { Consistency } from '../../src/coordinator/service.js';
import { shardForKey } from '../../src/common/key-hash.js';
import { DATA_BATCH_CONTENT_TYPE, DATA_BATCH_PATH, decodeDataBatchRequests, encodeDataBatchAnswers } from '../../src/data-wire/batch-frame.js';
import { FakeCoordinatorService } from '../api/fake-service.js';
import { startServer } from '../api/helpers.js';

export interface SeenRequest {
  readonly method: string;
  readonly key: string;
  readonly epoch: number | undefined;
  readonly body: Buffer;
  /** The client's source address. */
  readonly from: string | undefined;
  /** It came inside a `POST /data-batch`. */
  readonly inBatch: boolean;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

/** Counts the table reads by consistency; `onLinearizable` runs before each linearizable read answers. */
export class CountingService extends FakeCoordinatorService {
  readonly reads: Consistency[] = [];
  onLinearizable: (() => Promise<void> | void) | undefined;

  override async read(consistency: Consistency) {
    this.reads.push(consistency);
    if (consistency === 'linearizable') await this.onLinearizable?.();
    return super.read(consistency);
  }

  /** Linearizable table reads by the client: each is two reads of the service (shards, then nodes). */
  tableRefreshes(): number {
    return this.reads.filter((c) => c === 'linearizable').length / 2;
  }

  /** Applies `command`, failing the test if the table refuses it. */
  async must(command: Command): Promise<void> {
    const out = await this.propose(command);
    if (!out.ok) throw new Error(`${command.type} refused: ${out.code} ${out.message}`);
  }

  epochOf(shard: number): number {
    return (this.state.shards[shard] as { epoch: number }).epoch;
  }

  shardOf(key: string): number {
    return shardForKey(key, this.state.shards.length);
  }
}

/** The fields every routing command carries, as a test fills them. */
export const base = { atMs: 0, reason: 'test' };

export class FakeNode {
  readonly requests: SeenRequest[] = [];
  readonly store = new Map<string, Buffer>();
  /** Answers for the next requests, in order, instead of the fenced default. */
  readonly script: Reply[] = [];
  /** Answers every request when set (after the script). */
  always: Reply | undefined;
  /** Whether it takes `POST /data-batch` (false: a node of a version before it, which answers 404). */
  knowsBatches = true;
  /** Batches taken. */
  batches = 0;
  /** Batches answered 404 because knowsBatches is false. */
  refusedBatches = 0;
  address = '';

  constructor(
    readonly id: string,
    private readonly service: CountingService,
    private readonly server: http.Server,
  ) {}

  handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    if (req.url === DATA_BATCH_PATH && !this.knowsBatches) {
      this.refusedBatches++;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route POST ${DATA_BATCH_PATH}`, resource: 'route', id: DATA_BATCH_PATH } }));
      return;
    }
    if (req.url === DATA_BATCH_PATH) {
      this.batches++;
      const answers = decodeDataBatchRequests(body).map((r) => {
        const reply = this.answer(r.method, r.target, Buffer.from(r.value ?? new Uint8Array(0)), req.socket.remoteAddress, true);
        return { status: reply.status, body: bodyBytes(reply) ?? new Uint8Array(0) };
      });
      res.writeHead(200, { 'content-type': DATA_BATCH_CONTENT_TYPE });
      res.end(encodeDataBatchAnswers(answers));
      return;
    }
    const reply = this.answer(req.method ?? '', req.url ?? '/', body, req.socket.remoteAddress, false);
    const text = bodyBytes(reply);
    res.writeHead(reply.status, text === undefined || Buffer.isBuffer(reply.body) ? {} : { 'content-type': 'application/json' });
    res.end(text);
  }

  private answer(method: string, target: string, body: Buffer, from: string | undefined, inBatch: boolean): Reply {
    const url = new URL(target, 'http://x');
    const key = decodeURIComponent(url.pathname.replace(/^\/data\//, ''));
    const epochText = url.searchParams.get('epoch');
    const epoch = epochText === null ? undefined : Number(epochText);
    this.requests.push({ method, key, epoch, body, from, inBatch });
    return this.script.shift() ?? this.always ?? this.serve(method, key, epoch, body);
  }

  private serve(method: string, key: string, epoch: number | undefined, body: Buffer): Reply {
    const shard = this.service.shardOf(key);
    const record = this.service.state.shards[shard] as { primary: string | null; epoch: number };
    if (record.primary !== this.id) {
      return { status: 421, body: { error: { code: 'NOT_PRIMARY', message: `${this.id} is not the primary of shard ${shard}`, shard, primary: record.primary } } };
    }
    if (epoch !== record.epoch) {
      return { status: 409, body: { error: { code: 'STALE_EPOCH', message: `shard ${shard} is at epoch ${record.epoch}`, shard, expectedEpoch: epoch, currentEpoch: record.epoch } } };
    }
    if (method === 'PUT') this.store.set(key, body);
    if (method === 'DELETE') this.store.delete(key);
    if (method !== 'GET') return { status: 204 };
    const value = this.store.get(key);
    return value === undefined ? { status: 404, body: { error: { code: 'NOT_FOUND', message: `no key ${key}`, resource: 'key' } } } : { status: 200, body: value };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function bodyBytes(reply: Reply): Buffer | undefined {
  if (reply.body === undefined) return undefined;
  return Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body));
}

const nodes: FakeNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

export async function startFakeNode(id: string, service: CountingService): Promise<FakeNode> {
  let node: FakeNode | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => node?.handle(req, Buffer.concat(chunks), res));
  });
  node = new FakeNode(id, service, server);
  nodes.push(node);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  node.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return node;
}

export interface FakeCluster {
  readonly service: CountingService;
  readonly coordinator: string;
  readonly nodes: FakeNode[];
  node(id: string): FakeNode;
  /** The node that is primary of `key`'s shard now. */
  primaryOf(key: string): FakeNode;
}

/** `shards` shards over `nodeCount` nodes: shard i has primary n(i mod N + 1) and the next node as an in-sync replica. */
export async function startFakeCluster(shards = 4, nodeCount = 3): Promise<FakeCluster> {
  const service = new CountingService({ shards });
  const list: FakeNode[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    const node = await startFakeNode(`n${i}`, service);
    list.push(node);
    await service.must({ type: 'registerNode', ...base, nodeId: node.id, address: node.address, capacity: 16, version: '0.1.0' });
  }
  for (let s = 0; s < shards; s++) {
    const primary = list[s % nodeCount] as FakeNode;
    const replicas = nodeCount > 1 ? [(list[(s + 1) % nodeCount] as FakeNode).id] : [];
    await service.must({ type: 'assignShard', ...base, shardId: s, expectedEpoch: service.epochOf(s), primary: primary.id, replicas });
  }
  const server = await startServer(service);
  const node = (id: string) => list.find((n) => n.id === id) as FakeNode;
  return {
    service,
    coordinator: server.address,
    nodes: list,
    node,
    primaryOf: (key) => node((service.state.shards[service.shardOf(key)] as { primary: string }).primary),
  };
}

/** Makes the shard's in-sync replica its primary (a new epoch); the old primary answers NOT_PRIMARY from now on. */
export async function promoteReplica(service: CountingService, shard: number): Promise<string> {
  const record = service.state.shards[shard] as { replicas: readonly string[]; epoch: number };
  const nodeId = record.replicas[0] as string;
  await service.must({ type: 'promotePrimary', ...base, shardId: shard, expectedEpoch: record.epoch, nodeId });
  return nodeId;
}

/** A port nothing listens on (bound, then released). */
export async function deadAddress(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}
