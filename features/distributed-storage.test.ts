/**
 * The steps of features/distributed-storage.feature, over the integration
 * harness (test/support/cluster-harness.ts): every scenario starts its own
 * three real `torua coordinator` and three `torua node` processes and closes
 * them (and removes any packet-filter rule it added) when it ends, passed or
 * failed.
 */
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describeFeature, loadFeature } from '@amiceli/vitest-cucumber';
import { printDiagnosticsOnStepError } from './support/step-errors.js';
import { afterAll, expect } from 'vitest';
import { shardForKey } from '../src/common/key-hash.js';
import { Cluster, httpRequest, partitionUnsupportedReason, waitFor } from '../test/support/cluster-harness.js';
import { dataRequest, describeAnswer } from '../test/support/data-http.js';
import { KvWriter } from '../test/support/kv-writer.js';

const SHARDS = 8;
/** Small enough to test 413 without sending 16 MiB; large enough for the 1 MiB value. */
const MAX_VALUE_BYTES = 2 * 1024 * 1024;
const LEASE_MS = 1_000;

interface ShardView {
  id: number;
  primary: string | null;
  replicas: string[];
  in_sync: string[];
  epoch: number;
  state: string;
}
interface NodeView {
  id: string;
  address: string;
  status: string;
}
interface NodeInfo {
  id: string;
  lease: { valid: boolean };
  shards: { id: number; role: string; epoch: number }[];
}

interface World {
  h?: Cluster;
  writer?: KvWriter;
  /** Keys written by steps themselves, with their acknowledged values. */
  stored: Map<string, string>;
  target?: string;
  shard?: ShardView;
}

let world: World = { stored: new Map() };
let scenarioNo = 0;

function cluster(): Cluster {
  if (!world.h) throw new Error('no cluster in this scenario');
  return world.h;
}

async function endScenario(): Promise<void> {
  const w = world;
  world = { stored: new Map() };
  await w.writer?.stop();
  await w.h?.close();
}
afterAll(endScenario);

printDiagnosticsOnStepError(() => world.h);

function coordinatorAddresses(): string[] {
  const h = cluster();
  return h.running(h.voters).map((id) => `${h.member(id).host}:${h.member(id).apiPort}`);
}

async function getJson<T>(path: string, via = cluster().voters[0]!): Promise<T> {
  const a = await cluster().get(via, path, 5_000);
  if (a.status !== 200) throw new Error(`GET ${path} on ${via}: ${a.status} ${a.error ?? JSON.stringify(a.body)}`);
  return a.body as T;
}

const shards = async (): Promise<ShardView[]> => (await getJson<{ shards: ShardView[] }>('/shards')).shards;
const nodes = async (): Promise<NodeView[]> => (await getJson<{ nodes: NodeView[] }>('/nodes')).nodes;

async function nodeInfo(id: string): Promise<NodeInfo> {
  const n = cluster().node(id);
  const r = await httpRequest(n.host, n.port, 'GET', '/info', undefined, 3_000);
  if (r.status !== 200) throw new Error(`GET /info on ${id}: ${r.status} ${r.error ?? JSON.stringify(r.body)}`);
  return r.body as NodeInfo;
}

/** Every shard has a primary and `copies - 1` replicas, all in sync, on distinct nodes of `on` (default: any). */
function placedOn(list: ShardView[], copies: number, on?: readonly string[]): string | undefined {
  for (const s of list) {
    const all = s.primary === null ? s.replicas : [s.primary, ...s.replicas];
    if (s.primary === null) return `shard ${s.id} has no primary`;
    if (all.length !== copies) return `shard ${s.id} has ${all.length} copies (${all.join(', ')})`;
    if (new Set(all).size !== all.length) return `shard ${s.id} has two copies on one node`;
    if (s.in_sync.length !== copies) return `shard ${s.id}: only ${s.in_sync.join(', ')} in sync`;
    if (on !== undefined && all.some((n) => !on.includes(n))) return `shard ${s.id} has a copy outside ${on.join(', ')}`;
  }
  return undefined;
}

async function waitForPlacement(copies = 2, on?: readonly string[], timeoutMs = 60_000): Promise<ShardView[]> {
  let last = '';
  return waitFor(
    `every shard with ${copies} copies in sync${on ? ` on ${on.join(', ')}` : ''}`,
    async () => {
      const list = await shards();
      last = placedOn(list, copies, on) ?? '';
      return last === '' ? list : undefined;
    },
    { timeoutMs, intervalMs: 100, describe: () => last },
  );
}

async function startCluster(name: string, nodeCount = 3, started = 3): Promise<Cluster> {
  const h = await Cluster.create({
    name: `ds${++scenarioNo}-${name}`,
    nodes: nodeCount,
    shards: SHARDS,
    replicationFactor: 2,
    settings: { maxValueBytes: MAX_VALUE_BYTES, health: { leaseMs: LEASE_MS } },
  });
  world.h = h;
  await h.startVoters();
  await h.waitForLeader({ all: true });
  await Promise.all(h.nodes.slice(0, started).map((n) => h.start(n.id)));
  await waitForPlacement();
  return h;
}

/** Through the coordinators in turn, retrying refusals that say "try again" for a while. */
async function put(key: string, value: string | Buffer, via?: string): Promise<void> {
  const addresses = coordinatorAddresses();
  let last = '';
  await waitFor(
    `PUT ${key} acknowledged`,
    async () => {
      const a = await dataRequest(via ?? addresses[Math.floor(Math.random() * addresses.length)]!, 'PUT', key, value);
      last = describeAnswer(a);
      if (a.status === 204) return true;
      if (a.status >= 400 && a.status < 500 && a.status !== 409 && a.status !== 421) throw new Error(`PUT ${key}: ${last}`);
      return undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
  );
  world.stored.set(key, Buffer.isBuffer(value) ? value.toString('base64') : value);
}

async function read(key: string, via?: string): Promise<{ status: number; value: Buffer }> {
  const address = via ?? coordinatorAddresses()[0]!;
  let last = '';
  return waitFor(
    `GET ${key} answered`,
    async () => {
      const a = await dataRequest(address, 'GET', key);
      last = describeAnswer(a);
      return a.status === 200 || a.status === 404 ? { status: a.status, value: a.bytes } : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
  );
}

async function expectAllAcknowledgedReadable(): Promise<void> {
  const pairs = new Map([...(world.writer?.ackedPairs() ?? new Map<string, string>()), ...world.stored]);
  expect(pairs.size).toBeGreaterThan(0);
  const missing: string[] = [];
  for (const [key, value] of pairs) {
    const got = await read(key);
    const text = got.status === 200 ? got.value.toString('utf8') : `(${got.status})`;
    if (text !== value && got.value.toString('base64') !== value) missing.push(`${key}: expected ${value}, got ${text}`);
  }
  expect(missing, `${missing.length} of ${pairs.size} acknowledged keys lost`).toEqual([]);
}

const feature = await loadFeature(fileURLToPath(new URL('./distributed-storage.feature', import.meta.url)));
const noPartitions = partitionUnsupportedReason();
if (noPartitions !== undefined) {
  console.warn(`features/distributed-storage.feature: the @iptables scenario is SKIPPED, it needs root and a working iptables: ${noPartitions}`);
}

describeFeature(feature, ({ Scenario, AfterEachScenario }) => {
  AfterEachScenario(endScenario);

  Scenario('Store, read, update and delete a key', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('crud');
    });
    When('the key "greeting" is stored with the value "hello" through a coordinator', async () => {
      await put('greeting', 'hello');
    });
    Then('reading "greeting" through every coordinator gives "hello"', async () => {
      for (const via of coordinatorAddresses()) expect((await read('greeting', via)).value.toString()).toBe('hello');
    });
    When('the key "greeting" is stored with the value "hello again"', async () => {
      await put('greeting', 'hello again');
    });
    Then('reading "greeting" through every coordinator gives "hello again"', async () => {
      for (const via of coordinatorAddresses()) expect((await read('greeting', via)).value.toString()).toBe('hello again');
    });
    When('the key "greeting" is deleted', async () => {
      const a = await dataRequest(coordinatorAddresses()[1]!, 'DELETE', 'greeting');
      expect(a.status, describeAnswer(a)).toBe(204);
    });
    Then('reading "greeting" gives 404', async () => {
      for (const via of coordinatorAddresses()) expect((await read('greeting', via)).status).toBe(404);
    });
    And('reading the key "never-written" gives 404', async () => {
      const a = await dataRequest(coordinatorAddresses()[2]!, 'GET', 'never-written');
      expect(a.status, describeAnswer(a)).toBe(404);
      expect(a.code).toBe('NOT_FOUND');
    });
  });

  Scenario('Keys spread over the shards, and a key always lands on the same shard', ({ Given, When, Then, And }) => {
    const keys = Array.from({ length: 64 }, (_, i) => `spread-${i}`);
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('spread');
    });
    When('64 keys are stored through the coordinators in turn', async () => {
      const via = coordinatorAddresses();
      for (const [i, k] of keys.entries()) await put(k, `v-${k}`, via[i % via.length]);
    });
    Then('the keys are held by the primaries of at least 4 different shards', () => {
      const used = new Set(keys.map((k) => shardForKey(k, SHARDS)));
      expect(used.size).toBeGreaterThanOrEqual(4);
    });
    And('each key is held by the primary of the shard its hash names, and by no other node as primary', async () => {
      const list = await shards();
      const h = cluster();
      for (const k of keys) {
        const shard = list[shardForKey(k, SHARDS)]!;
        const owner = await dataRequest(h.nodeAddress(shard.primary!), 'GET', k, undefined, { query: { epoch: shard.epoch } });
        expect(owner.status, `${k} on its primary ${shard.primary}: ${describeAnswer(owner)}`).toBe(200);
        expect(owner.bytes.toString()).toBe(`v-${k}`);
        for (const other of h.nodes.map((n) => n.id).filter((n) => n !== shard.primary)) {
          const a = await dataRequest(h.nodeAddress(other), 'GET', k, undefined, { query: { epoch: shard.epoch } });
          expect(a.status, `${k} on ${other}, not its primary: ${describeAnswer(a)}`).toBeGreaterThanOrEqual(400);
        }
      }
    });
    And('storing a key again through another coordinator updates the same shard', async () => {
      const k = keys[0]!;
      const via = coordinatorAddresses();
      await put(k, 'updated', via[via.length - 1]);
      const shard = (await shards())[shardForKey(k, SHARDS)]!;
      const a = await dataRequest(cluster().nodeAddress(shard.primary!), 'GET', k, undefined, { query: { epoch: shard.epoch } });
      expect(a.bytes.toString()).toBe('updated');
    });
  });

  Scenario('Keys with unusual characters and a large value round-trip exactly', ({ Given, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('odd');
    });
    Then('each of these keys stores and returns its value exactly:', async (...args: unknown[]) => {
      const table = args.find(Array.isArray) as { key: string }[];
      expect(table.length).toBe(5);
      for (const { key } of table) {
        await put(key, `value of ${key}`);
        for (const via of coordinatorAddresses()) expect((await read(key, via)).value.toString('utf8'), key).toBe(`value of ${key}`);
      }
    });
    And('a value of 1 MiB of random bytes round-trips exactly', async () => {
      const value = crypto.randomBytes(1024 * 1024);
      await put('big', value);
      const got = await read('big');
      expect(got.value.length).toBe(value.length);
      expect(got.value.equals(value)).toBe(true);
    });
    And('an empty key is refused with 400 and a key of 1025 bytes with 400', async () => {
      const via = coordinatorAddresses()[0]!;
      const empty = await dataRequest(via, 'PUT', '', 'x');
      expect(empty.status, describeAnswer(empty)).toBe(400);
      const long = await dataRequest(via, 'PUT', 'k'.repeat(1025), 'x');
      expect(long.status, describeAnswer(long)).toBe(400);
      expect(JSON.stringify(long.error)).toMatch(/key/);
    });
    And('a value larger than the configured maximum is refused with 413', async () => {
      const a = await dataRequest(coordinatorAddresses()[0]!, 'PUT', 'too-big', Buffer.alloc(MAX_VALUE_BYTES + 1), { timeoutMs: 20_000 });
      expect(a.status, describeAnswer(a)).toBe(413);
      expect((await read('too-big')).status).toBe(404);
    });
  });

  Scenario('Ten clients write and read their own keys at the same time', ({ Given, When, Then }) => {
    const results: string[][] = [];
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('ten');
    });
    When('10 clients each write 20 keys of their own and read them back concurrently', async () => {
      const via = coordinatorAddresses();
      await Promise.all(
        Array.from({ length: 10 }, async (_, c) => {
          const wrong: string[] = [];
          for (let i = 0; i < 20; i++) {
            const key = `client${c}/key${i}`;
            const address = via[(c + i) % via.length]!;
            const w = await dataRequest(address, 'PUT', key, `${c}:${i}`);
            if (w.status !== 204) wrong.push(`${key}: PUT ${describeAnswer(w)}`);
            const r = await dataRequest(address, 'GET', key);
            if (r.status !== 200 || r.bytes.toString() !== `${c}:${i}`) wrong.push(`${key}: GET ${describeAnswer(r)} ${r.bytes.toString()}`);
          }
          results[c] = wrong;
        }),
      );
    });
    Then('every client read back exactly what it wrote', () => {
      expect(results).toHaveLength(10);
      expect(results.flat()).toEqual([]);
    });
  });

  Scenario('The cluster shows where the shards and nodes are', ({ Given, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('views');
    });
    Then('"/shards" lists every shard with a primary and a replica on two different nodes, both in sync', async () => {
      const list = await shards();
      expect(list.map((s) => s.id)).toEqual([...Array(SHARDS).keys()]);
      expect(placedOn(list, 2)).toBeUndefined();
      for (const s of list) expect(s.state).toBe('active');
    });
    And('"/nodes" lists every node with its address', async () => {
      const list = await nodes();
      const h = cluster();
      expect(list.map((n) => [n.id, n.address]).sort()).toEqual(h.nodes.map((n) => [n.id, `${n.host}:${n.port}`]).sort());
    });
    And('each node\'s "/info" shows the shards the table gives it, with its role in each', async () => {
      const list = await shards();
      for (const n of cluster().nodes) {
        const expected = list
          .filter((s) => s.primary === n.id || s.replicas.includes(n.id))
          .map((s) => ({ id: s.id, role: s.primary === n.id ? 'primary' : 'replica', epoch: s.epoch }));
        const info = await waitFor(`${n.id}'s /info to match the table`, async () => {
          const i = await nodeInfo(n.id);
          const got = i.shards.map((s) => ({ id: s.id, role: s.role, epoch: s.epoch })).sort((a, b) => a.id - b.id);
          return JSON.stringify(got) === JSON.stringify(expected) ? i : undefined;
        });
        expect(info.id).toBe(n.id);
        expect(info.lease.valid).toBe(true);
        expect(info.shards.length).toBeGreaterThan(0);
      }
    });
  });

  Scenario('A new node joins and gets shards', ({ Given, When, Then, And }) => {
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('join', 4, 3);
    });
    And('30 keys stored through the coordinators', async () => {
      for (let i = 0; i < 30; i++) await put(`before-join-${i}`, `v${i}`);
    });
    When('a fourth data node is started', async () => {
      await cluster().start('n4');
    });
    Then('it registers and soon holds copies of some shards, in sync', async () => {
      await waitFor('n4 in /nodes', async () => ((await nodes()).some((n) => n.id === 'n4') ? true : undefined));
      const list = await waitFor(
        'n4 to hold an in-sync copy',
        async () => {
          const l = await shards();
          return l.some((s) => s.in_sync.includes('n4')) ? l : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(list.filter((s) => s.in_sync.includes('n4')).length).toBeGreaterThan(0);
    });
    And('every stored key is still readable', async () => {
      await expectAllAcknowledgedReadable();
    });
  });

  const writerSteps = (name: string) => ({
    given: async () => {
      await startCluster(name);
    },
    writer: async () => {
      world.writer = new KvWriter({ prefix: 'w', via: coordinatorAddresses(), intervalMs: 5 }).start();
      await world.writer.waitForAcks(20);
    },
  });

  Scenario('A node forced out loses no acknowledged write', ({ Given, When, Then, And }) => {
    const s = writerSteps('forced');
    Given('a running cluster of three coordinators and three data nodes', s.given);
    And('a writer that keeps storing new keys through every coordinator', s.writer);
    When('a node is forced out through "POST /nodes/:id/remove"', async () => {
      world.target = 'n1';
      const a = await cluster().post(cluster().voters[0]!, '/nodes/n1/remove', {}, 30_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      await world.writer!.waitForAcks(20);
    });
    Then('the node is gone from "/nodes" and no shard names it', async () => {
      expect((await nodes()).map((n) => n.id)).not.toContain('n1');
      for (const sh of await shards()) expect([sh.primary, ...sh.replicas]).not.toContain('n1');
    });
    And('every shard again has a primary and a replica in sync', async () => {
      await waitForPlacement(2, ['n2', 'n3']);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
    And('new keys can be written', async () => {
      for (let i = 0; i < 10; i++) await put(`after-${i}`, `a${i}`);
    });
  });

  Scenario('A node killed and then removed loses no acknowledged write', ({ Given, When, Then, And }) => {
    const s = writerSteps('killed');
    Given('a running cluster of three coordinators and three data nodes', s.given);
    And('a writer that keeps storing new keys through every coordinator', s.writer);
    When('a node is killed with SIGKILL', async () => {
      world.target = 'n2';
      await cluster().kill('n2', 'SIGKILL');
    });
    And('it is removed through "POST /nodes/:id/remove"', async () => {
      const a = await cluster().post(cluster().voters[1]!, '/nodes/n2/remove', {}, 30_000);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
    });
    Then('every shard again has a primary and a replica in sync', async () => {
      await waitForPlacement(2, ['n1', 'n3']);
      await world.writer!.waitForAcks(20);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      await expectAllAcknowledgedReadable();
    });
    And('new keys can be written', async () => {
      for (let i = 0; i < 10; i++) await put(`after-${i}`, `a${i}`);
    });
  });

  Scenario('A write with a stale shard epoch is refused', ({ Given, When, Then, And }) => {
    let answer: Awaited<ReturnType<typeof dataRequest>> | undefined;
    let key = '';
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('stale');
    });
    When("a write is sent straight to a shard's primary with an epoch older than the shard's", async () => {
      const list = await shards();
      const shard = list.find((x) => x.epoch > 0)!;
      world.shard = shard;
      key = Array.from({ length: 1000 }, (_, i) => `stale-${i}`).find((k) => shardForKey(k, SHARDS) === shard.id)!;
      answer = await dataRequest(cluster().nodeAddress(shard.primary!), 'PUT', key, 'should not land', { query: { epoch: shard.epoch - 1 } });
    });
    Then('it is refused with 409 STALE_EPOCH naming the current epoch', () => {
      expect(answer!.status, describeAnswer(answer!)).toBe(409);
      expect(answer!.code).toBe('STALE_EPOCH');
      expect(answer!.error?.['currentEpoch']).toBe(world.shard!.epoch);
    });
    And('the key was not written', async () => {
      expect((await read(key)).status).toBe(404);
    });
  });

  Scenario('A draining node hands its shards over without losing a write', ({ Given, When, Then, And }) => {
    const s = writerSteps('drain');
    Given('a running cluster of three coordinators and three data nodes', s.given);
    And('a writer that keeps storing new keys through every coordinator', s.writer);
    When('a node is asked to drain with SIGTERM', async () => {
      world.target = 'n3';
      const pid = cluster().pidOf('n3')!;
      process.kill(pid, 'SIGTERM');
    });
    Then('the node holds no shard copies any more and exits', async () => {
      const h = cluster();
      await waitFor('n3 to exit after draining', () => (h.stateOf('n3') === 'down' ? true : undefined), { timeoutMs: 60_000 });
      expect(h.lastExitOf('n3')?.exitCode).toBe(0);
      for (const sh of await shards()) expect([sh.primary, ...sh.replicas]).not.toContain('n3');
    });
    And('every shard has a primary and a replica on the two other nodes, in sync', async () => {
      await waitForPlacement(2, ['n1', 'n2']);
    });
    And('every acknowledged key is still readable with its value', async () => {
      await world.writer!.stop();
      expect(world.writer!.ackedPairs().size).toBeGreaterThan(20);
      await expectAllAcknowledgedReadable();
    });
  });

  const partitionScenario = noPartitions === undefined ? Scenario : Scenario.skip;
  partitionScenario('A node cut off from the coordinators refuses writes once its lease ends', ({ Given, When, Then }) => {
    let key = '';
    Given('a running cluster of three coordinators and three data nodes', async () => {
      await startCluster('lease');
    });
    When('a node that is primary of some shard is cut off from every coordinator by a packet filter', async () => {
      const list = await shards();
      const shard = list.find((x) => x.primary === 'n1')!;
      expect(shard, 'n1 is primary of no shard').toBeDefined();
      world.shard = shard;
      key = Array.from({ length: 1000 }, (_, i) => `lease-${i}`).find((k) => shardForKey(k, SHARDS) === shard.id)!;
      const ok = await dataRequest(cluster().nodeAddress('n1'), 'PUT', key, 'before', { query: { epoch: shard.epoch } });
      expect(ok.status, describeAnswer(ok)).toBe(204);
      cluster().cutNodeFromCoordinators('n1');
    });
    Then('once its lease has run out it refuses writes to that shard with 503 NO_LEASE', async () => {
      let last = '';
      const refused = await waitFor(
        'n1 to refuse a write for want of a lease',
        async () => {
          const a = await dataRequest(cluster().nodeAddress('n1'), 'PUT', key, 'during', { query: { epoch: world.shard!.epoch } });
          last = describeAnswer(a);
          return a.status === 503 ? a : undefined;
        },
        { timeoutMs: 10 * LEASE_MS, intervalMs: 50, describe: () => last },
      );
      expect(refused.code).toBe('NO_LEASE');
      const info = await nodeInfo('n1');
      expect(info.lease.valid).toBe(false);
    });
    When('the packet filter is removed', () => {
      cluster().heal();
    });
    Then('it takes writes again', async () => {
      let last = '';
      await waitFor(
        'n1 to take a write again',
        async () => {
          const a = await dataRequest(cluster().nodeAddress('n1'), 'PUT', key, 'after', { query: { epoch: world.shard!.epoch } });
          last = describeAnswer(a);
          return a.status === 204 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50, describe: () => last },
      );
      expect((await read(key)).value.toString()).toBe('after');
    });
  });
});
