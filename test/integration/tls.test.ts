/**
 * Mutual TLS between real processes: three coordinators and two data nodes
 * started from a cluster file with `tls`, with certificates made by
 * `torua certs create`. One cluster serves every check: a client
 * certificate of the cluster CA works; a foreign CA, another cluster's
 * certificate, c3's certificate claiming to be c2 on the peer port, a node
 * certificate calling handoff, a replication batch from a non-primary, and
 * a registration of n1 with another certificate are each refused, and
 * nothing changed. The CLI works with --ca/--cert/--key and not without.
 * Then a SIGHUP makes a node serve a re-issued certificate.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReplicationFrame, REPLICATION_FRAME_CONTENT_TYPE } from '../../src/datanode/wire/replication-frame.js';
import { createClusterCerts } from '../../src/tls/openssl-certs.js';
import { decodeClose, encodeHello, PROTOCOL_VERSION } from '../../src/transport/handshake.js';
import { encodeFrame, FrameDecoder, FrameKind } from '../../src/transport/framing.js';
import { LaunchGroup } from '../../scripts/launch/group.js';
import { toruaChild } from '../../scripts/launch/torua-cluster-file.js';
import { expectBuilt, freePorts, MAIN_JS, waitFor } from '../support/coordinator-processes.js';

const HOST = '127.0.0.1';
const CLUSTER = 'sec';

interface Answer {
  readonly status: number;
  readonly json: any;
}

let dir = '';
let certs = '';
let group: LaunchGroup | undefined;
let ports: number[] = [];
const coordinators = ['c1', 'c2', 'c3'];
const nodes = ['n1', 'n2'];
const apiPort = (c: string) => ports[coordinators.indexOf(c)]!;
const peerPort = (c: string) => ports[3 + coordinators.indexOf(c)]!;
const nodePort = (n: string) => ports[6 + nodes.indexOf(n)]!;

/** `who`: a file prefix under `from` (`client`, `n2`, …); `from` defaults to the cluster's certificates. */
function credentials(who: string | undefined, from = certs): https.RequestOptions {
  const ca = readFileSync(path.join(certs, 'ca.crt'));
  if (who === undefined) return { ca };
  return { ca, cert: readFileSync(path.join(from, `${who}.crt`)), key: readFileSync(path.join(from, `${who}.key`)) };
}

/** One HTTPS exchange; rejects when the TLS handshake or the connection fails. */
function call(port: number, method: string, urlPath: string, options: { who?: string; from?: string; body?: Uint8Array | string; contentType?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body;
    const req = https.request({
      host: HOST,
      port,
      method,
      path: urlPath,
      agent: false,
      timeout: 5_000,
      ...credentials(options.who, options.from),
      headers: body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.end(body);
  });
}

const get = (port: number, urlPath: string, who = 'client') => call(port, 'GET', urlPath, { who });
const mutate = (port: number, procedure: string, input: unknown, who: string) => call(port, 'POST', `/trpc/${procedure}`, { who, body: JSON.stringify(input) });

interface ShardView {
  id: number;
  primary: string | null;
  replicas: string[];
  in_sync: string[];
  epoch: number;
}

async function shards(): Promise<ShardView[]> {
  const answer = await get(apiPort('c1'), '/shards?stale=true');
  expect(answer.status).toBe(200);
  return answer.json.shards as ShardView[];
}

/** What a registration would change. */
async function nodeView(id: string): Promise<{ address: string; status: string; registered_at_ms: number }> {
  const answer = await get(apiPort('c1'), '/nodes?stale=true');
  const { address, status, registered_at_ms } = (answer.json.nodes as { id: string; address: string; status: string; registered_at_ms: number }[]).find((n) => n.id === id)!;
  return { address, status, registered_at_ms };
}

async function copyOn(node: string, shard: number): Promise<{ seq: number; epoch: number; role: string }> {
  const answer = await get(nodePort(node), '/info');
  return (answer.json.shards as { id: number; seq: number; epoch: number; role: string }[]).find((s) => s.id === shard)!;
}

/** Dials `port` with `who`'s certificate and sends a hello from `from`; resolves with the first frame's kind and, for a close, its code. */
function helloAs(port: number, who: string, whoFrom: string, from: string, to: string): Promise<{ kind: FrameKind; code?: string } | { failed: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: HOST, port, servername: undefined, ...(credentials(who, whoFrom) as tls.ConnectionOptions), checkServerIdentity: () => undefined });
    const decoder = new FrameDecoder(1 << 20);
    const done = (v: { kind: FrameKind; code?: string } | { failed: string }) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(5_000, () => done({ failed: 'timeout' }));
    socket.on('error', (e) => done({ failed: e.message }));
    socket.on('close', () => done({ failed: 'closed' }));
    socket.on('secureConnect', () => {
      socket.write(encodeFrame(FrameKind.Hello, encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from, to, maxFrameBytes: 1 << 20 })));
    });
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      const frame = decoder.next();
      if (frame === undefined) return;
      done(frame.kind === FrameKind.Close ? { kind: frame.kind, code: decodeClose(frame.body).code } : { kind: frame.kind });
    });
  });
}

function start(name: string, args: string[]): void {
  group!.start(toruaChild(name, args, { cwd: dir }));
}

beforeAll(async () => {
  expectBuilt();
  group = await LaunchGroup.create({ prefix: 'torua-tls-' });
  dir = group.dir;
  certs = path.join(dir, 'certs');
  ports = await freePorts(8);
  const file = {
    clusterId: CLUSTER,
    dataDir: './data',
    shards: 2,
    replicationFactor: 2,
    coordinators: coordinators.map((id) => ({ id, host: HOST, apiPort: apiPort(id), peerPort: peerPort(id) })),
    nodes: nodes.map((id) => ({ id, host: HOST, port: nodePort(id), capacity: 8 })),
    tls: { dir: 'certs' },
  };
  writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify(file));
  const made = await execa(process.execPath, [MAIN_JS, 'certs', 'create', '--config', 'cluster.json', '--out', 'certs'], { cwd: dir, reject: false });
  expect(made.exitCode, made.stderr).toBe(0);
  // A node of this CA the cluster does not know, a foreign CA with the same names, and this CA's certificates for another cluster id.
  await createClusterCerts({ clusterId: CLUSTER, outDir: certs, members: [{ id: 'n9', role: 'node', hosts: [HOST] }] });
  await createClusterCerts({ clusterId: CLUSTER, outDir: path.join(dir, 'foreign'), members: [{ id: 'c2', role: 'coordinator', hosts: [HOST] }, { id: 'client', role: 'client', hosts: [] }] });
  const other = path.join(dir, 'other');
  mkdirSync(other, { mode: 0o700 });
  copyFileSync(path.join(certs, 'ca.crt'), path.join(other, 'ca.crt'));
  copyFileSync(path.join(certs, 'ca.key'), path.join(other, 'ca.key'));
  await createClusterCerts({ clusterId: 'other', outDir: other, members: [{ id: 'c2', role: 'coordinator', hosts: [HOST] }, { id: 'client', role: 'client', hosts: [] }] });

  for (const c of coordinators) start(c, ['coordinator', '--config', 'cluster.json', '--id', c]);
  for (const n of nodes) start(n, ['node', '--config', 'cluster.json', '--id', n]);
  await waitFor(
    'both shards placed on healthy nodes with both copies in sync',
    async () => {
      const [all, list] = await Promise.all([shards(), get(apiPort('c1'), '/nodes?stale=true')]);
      const healthy = (list.json.nodes as { status: string }[]).filter((n) => n.status === 'healthy').length === 2;
      return healthy && all.every((s) => s.primary !== null && s.in_sync.length === 2) ? true : undefined;
    },
    45_000,
  );
}, 90_000);

afterAll(async () => {
  await group?.close();
});

describe('mutual TLS between real processes', () => {
  it('serves a client certificate of the cluster CA over HTTPS, and nothing without one', async () => {
    expect((await get(apiPort('c2'), '/cluster/info')).status).toBe(200);
    expect((await get(nodePort('n1'), '/health')).status).toBe(200);
    await expect(call(apiPort('c1'), 'GET', '/cluster/info', { who: undefined })).rejects.toThrow();
    await expect(call(nodePort('n1'), 'GET', '/health', { who: undefined })).rejects.toThrow();
  });

  it('the CLI with --ca/--cert/--key writes and reads through the smart client; without them it reaches nothing', async () => {
    const flags = ['--config', 'cluster.json', '--ca', 'certs/ca.crt', '--cert', 'certs/client.crt', '--key', 'certs/client.key'];
    const torua = (args: string[]) => execa(process.execPath, [MAIN_JS, ...args], { cwd: dir, reject: false, timeout: 30_000 });
    const put = await torua(['kv', 'put', 'greeting', 'hello', ...flags]);
    expect(put.exitCode, put.stderr).toBe(0);
    const read = await torua(['kv', 'get', 'greeting', ...flags]);
    expect(read.stdout.trim()).toBe('hello');
    const plain = await torua(['kv', 'get', 'greeting', '--config', 'cluster.json']);
    expect(plain.exitCode).not.toBe(0);
  });

  it('refuses a foreign CA on the API, the node port and the peer port', async () => {
    const foreign = path.join(dir, 'foreign');
    const before = await shards();
    await expect(call(apiPort('c1'), 'GET', '/cluster/info', { who: 'client', from: foreign })).rejects.toThrow();
    await expect(call(nodePort('n1'), 'GET', '/info', { who: 'client', from: foreign })).rejects.toThrow();
    const peer = await helloAs(peerPort('c1'), 'c2', foreign, 'c2', 'c1');
    expect(peer).toHaveProperty('failed');
    expect(await shards()).toEqual(before);
  });

  it('refuses a certificate of this CA made for another cluster id', async () => {
    const other = path.join(dir, 'other');
    await expect(call(apiPort('c1'), 'GET', '/cluster/info', { who: 'client', from: other })).rejects.toThrow();
    expect(await helloAs(peerPort('c1'), 'c2', other, 'c2', 'c1')).toEqual({ kind: FrameKind.Close, code: 'CERTIFICATE_MISMATCH' });
  });

  it("refuses c3's certificate claiming to be c2 on the peer port, and the term does not move", async () => {
    const term = (await get(apiPort('c1'), '/health')).json.term as number;
    expect(await helloAs(peerPort('c1'), 'c3', certs, 'c2', 'c1')).toEqual({ kind: FrameKind.Close, code: 'CERTIFICATE_MISMATCH' });
    // A node certificate is no replica either.
    expect(await helloAs(peerPort('c1'), 'n1', certs, 'c2', 'c1')).toEqual({ kind: FrameKind.Close, code: 'CERTIFICATE_MISMATCH' });
    expect((await get(apiPort('c1'), '/health')).json.term).toBe(term);
  });

  it("refuses a handoff asked with a node's certificate; the primary stays and keeps its epoch", async () => {
    const [shard] = await shards();
    const primary = shard!.primary!;
    const other = nodes.find((n) => n !== primary)!;
    const answer = await mutate(nodePort(primary), 'handoff', { shard: shard!.id, epoch: shard!.epoch }, other);
    expect(answer.status).toBe(403);
    expect(answer.json.error.data.code).toBe('FORBIDDEN');
    expect(await copyOn(primary, shard!.id)).toMatchObject({ role: 'primary', epoch: shard!.epoch });
    expect((await shards())[0]).toEqual(shard);
  });

  it('refuses a replication batch from a certificate that is not the primary it names', async () => {
    const [shard] = await shards();
    const primary = shard!.primary!;
    const replica = nodes.find((n) => n !== primary)!;
    const before = await copyOn(replica, shard!.id);
    const batch = (claimed: string) =>
      encodeReplicationFrame({ shard: shard!.id, epoch: shard!.epoch, primary: claimed, firstSeq: before.seq + 1, ops: [{ seq: before.seq + 1, key: 'forged', value: Buffer.from('x').toString('base64') }] });
    const post = (claimed: string, who: string) => call(nodePort(replica), 'POST', '/peer/replicate', { who, body: batch(claimed), contentType: REPLICATION_FRAME_CONTENT_TYPE });
    // The primary's name with another node's certificate: refused by the certificate.
    const forged = await post(primary, 'n9');
    expect(forged.status).toBe(403);
    expect(forged.json.error.code).toBe('FORBIDDEN');
    // Its own name, honestly: refused by the replica, which follows another primary.
    const honest = await post('n9', 'n9');
    expect(honest.status).toBe(421);
    expect(honest.json.error.code).toBe('NOT_PRIMARY');
    expect((await copyOn(replica, shard!.id)).seq).toBe(before.seq);
  });

  it("registers n1 only with n1's certificate; recovery pages and health.confirm need theirs", async () => {
    const before = await nodeView('n1');
    for (const who of ['n2', 'client']) {
      const answer = await mutate(apiPort('c1'), 'nodes.register', { id: 'n1', address: `${HOST}:9` }, who);
      expect(answer.status).toBe(403);
      expect(answer.json.error.data.code).toBe('FORBIDDEN');
    }
    expect(await nodeView('n1')).toEqual(before);
    const page = await mutate(nodePort('n1'), 'recovery.page', { recoveryId: 'r-not-yours', limit: 10 }, 'n9');
    expect(page.status).toBe(403);
    const confirm = await mutate(apiPort('c1'), 'health.confirm', { nodeId: 'n2', address: `${HOST}:${nodePort('n2')}` }, 'n1');
    expect(confirm.status).toBe(403);
  });

  it('re-reads its certificate on SIGHUP: a re-issued one is served without a restart, and the reload is counted', async () => {
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: HOST, port: nodePort('n1'), ...(credentials('client') as tls.ConnectionOptions) }, () => {
          resolve(socket.getPeerCertificate().serialNumber);
          socket.destroy();
        });
        socket.on('error', reject);
      });
    const first = await served();
    await createClusterCerts({ clusterId: CLUSTER, outDir: certs, members: [{ id: 'n1', role: 'node', hosts: [HOST] }] });
    group!.child('n1').signal('SIGHUP');
    const second = await waitFor('n1 to serve the re-issued certificate', async () => {
      const serial = await served();
      return serial !== first ? serial : undefined;
    }, 10_000);
    expect(second).not.toBe(first);
    const metrics = (await get(nodePort('n1'), '/metrics')).json as string;
    expect(metrics).toMatch(/torua_tls_reloads_total\{result="ok"[^}]*\} 1/);
    expect(metrics).toMatch(/torua_tls_certificate_expiry_timestamp_seconds\{certificate="own"[^}]*\} \d{10}/);
    // The node still renews its lease and replicates with the new certificate.
    expect((await get(nodePort('n1'), '/health')).status).toBe(200);
  });
});
