/** A data node server on 127.0.0.1 port 0 around a FakeDataNode, closed after each test; one raw HTTP request at a time. */
import http from 'node:http';
import { afterEach } from 'vitest';
import { startDataNodeServer, type DataNodeServer } from '../../../src/api/datanode/index.js';
import type { Authenticator } from '../../../src/api/auth/index.js';
import { closeNodeClients } from '../../../src/client/node-client.js';
import { createNoopMetrics, silentLogger } from '../../../src/observability/index.js';
import type { ReplicationBatch } from '../../../src/datanode/contract.js';
import { FakeDataNode } from './fake-node.js';

const open: DataNodeServer[] = [];

afterEach(async () => {
  closeNodeClients();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

export interface NodeServerFixture {
  readonly node: FakeDataNode;
  readonly server: DataNodeServer;
  readonly url: string;
}

export async function startNodeServer(options: { maxValueBytes?: number; maxTrpcBodyBytes?: number; internalToken?: string; authenticator?: Authenticator; maxConnections?: number } = {}): Promise<NodeServerFixture> {
  const node = new FakeDataNode();
  const maxValueBytes = options.maxValueBytes ?? 1024 * 1024;
  const server = await startDataNodeServer(
    {
      host: '127.0.0.1',
      port: 0,
      ...(options.maxTrpcBodyBytes === undefined ? {} : { maxTrpcBodyBytes: options.maxTrpcBodyBytes }),
      ...(options.internalToken === undefined ? {} : { internalToken: options.internalToken }),
      ...(options.authenticator === undefined ? {} : { authenticator: options.authenticator }),
      ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    },
    { service: node, logger: silentLogger, metrics: createNoopMetrics(), maxValueBytes: () => maxValueBytes },
  );
  open.push(server);
  return { node, server, url: `http://${server.address}` };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly bytes: Buffer;
  /** The body as JSON, when it is JSON. */
  readonly json: any;
}

/** One HTTP request exactly, with the path sent as given (no URL normalization). */
export function request(url: string, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const isJson = (res.headers['content-type'] ?? '').startsWith('application/json');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, json: isJson ? JSON.parse(bytes.toString('utf8')) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A replication batch of shard 3 at epoch 4 from n2: a put (seq 11) and a delete (seq 12). */
export function sampleBatch(overrides: Partial<ReplicationBatch> = {}): ReplicationBatch {
  return {
    shard: 3,
    epoch: 4,
    primary: 'n2',
    firstSeq: 11,
    ops: [
      { seq: 11, key: 'user@example.com', value: Buffer.from('a').toString('base64') },
      { seq: 12, key: '数字', value: null },
    ],
    ...overrides,
  };
}
