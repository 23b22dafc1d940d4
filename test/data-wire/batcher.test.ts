// The batcher against an in-process node: a node that refuses the batch path gets single requests
// for a while, and batches again once that while is over (an upgraded node, a caller not restarted).
import { afterEach, describe, expect, it } from 'vitest';
import { KvBatcher, type DataRequest } from '../../src/data-wire/batcher.js';
import { createKvAgent, httpTargetOf } from '../../src/data-wire/http-exchange.js';
import { startFakeCluster } from '../client/kv-fake-cluster.js';

const agents: { destroy(): void }[] = [];
afterEach(() => {
  for (const a of agents.splice(0)) a.destroy();
});

const put = (key: string): DataRequest => ({ method: 'PUT', path: `/data/${key}`, body: Buffer.from('v'), timeoutMs: 2_000, maxBodyBytes: 1024 });

describe('KvBatcher', () => {
  it('sends single requests to a node that refused the batch path, and asks it with a batch again after singleOnlyMs', async () => {
    const cluster = await startFakeCluster(1, 1);
    const node = cluster.node('n1');
    node.always = { status: 204 };
    node.knowsBatches = false;
    let nowMs = 0;
    const agent = createKvAgent(8, undefined);
    agents.push(agent);
    const batcher = new KvBatcher({ agent, headers: {}, singleOnlyMs: 1_000, nowMs: () => nowMs });
    const target = httpTargetOf(node.address)!;
    const statuses = async (keys: string[]) => (await Promise.all(keys.map((k) => batcher.send(target, put(k))))).map((r) => (r.kind === 'answer' ? r.status : r.kind));

    expect(await statuses(['a', 'b'])).toEqual([204, 204]);
    expect(node.refusedBatches).toBe(1);
    nowMs = 999;
    node.knowsBatches = true;
    expect(await statuses(['c', 'd'])).toEqual([204, 204]);
    expect(node.batches).toBe(0);
    nowMs = 1_000;
    expect(await statuses(['e', 'f'])).toEqual([204, 204]);
    expect(node.batches).toBe(1);
    expect(node.requests.map((r) => [r.key, r.inBatch])).toEqual([
      ['a', false],
      ['b', false],
      ['c', false],
      ['d', false],
      ['e', true],
      ['f', true],
    ]);
  });
});
