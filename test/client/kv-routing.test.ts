/** The KV client's table cache on its own: coalesced reads, and a refuse of tables that make no sense. */
import { describe, expect, it } from 'vitest';
import { classifyAnswer } from '../../src/client/kv-answer.js';
import { RoutingCache, type RawTable, type TableConsistency } from '../../src/client/kv-routing.js';

const table: RawTable = {
  shards: [
    { id: 0, epoch: 3, primary: 'n1', replicas: ['n2'], in_sync: ['n1', 'n2'], state: 'active' },
    { id: 1, epoch: 1, primary: null, replicas: [], in_sync: [], state: 'unassigned' },
  ],
  nodes: [
    { id: 'n1', address: '127.0.0.1:8081', status: 'healthy' },
    { id: 'n2', address: '[::1]:8082', status: 'healthy' },
  ],
};

/** A source whose reads the test answers one by one. */
function controlledSource() {
  const reads: { consistency: TableConsistency; answer: (t: RawTable) => void; fail: (e: Error) => void }[] = [];
  const source = (consistency: TableConsistency) =>
    new Promise<RawTable>((answer, fail) => {
      reads.push({ consistency, answer, fail });
    });
  return { reads, source };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RoutingCache', () => {
  it('reads stale on first use, once for concurrent callers', async () => {
    const { reads, source } = controlledSource();
    const cache = new RoutingCache(source);
    const a = cache.table();
    const b = cache.table();
    expect(reads.map((r) => r.consistency)).toEqual(['stale']);
    reads[0]!.answer(table);
    const [ta, tb] = await Promise.all([a, b]);
    expect(ta).toBe(tb);
    expect(ta.generation).toBe(1);
    expect(ta.shards[0]).toEqual({ shard: 0, epoch: 3, primary: 'n1' });
    expect(ta.node('n2')).toMatchObject({ host: '::1', port: 8082, address: '[::1]:8082' });
    await cache.table();
    expect(reads).toHaveLength(1);
  });

  it('coalesces refreshes of one failed table into one linearizable read', async () => {
    const { reads, source } = controlledSource();
    const cache = new RoutingCache(source);
    const first = cache.table();
    reads[0]!.answer(table);
    const t1 = await first;
    const r1 = cache.refresh(t1.generation);
    const r2 = cache.refresh(t1.generation);
    expect(reads.map((r) => r.consistency)).toEqual(['stale', 'linearizable']);
    reads[1]!.answer(table);
    expect(await r1).toBe(await r2);
    // A caller that failed on table 1 after the refresh landed takes table 2 as it is.
    expect((await cache.refresh(t1.generation)).generation).toBe(2);
    expect(reads).toHaveLength(2);
    // One that failed on table 2 needs a new read.
    void cache.refresh(2);
    expect(reads).toHaveLength(3);
  });

  it('queues a linearizable read behind a stale one in flight', async () => {
    const { reads, source } = controlledSource();
    const cache = new RoutingCache(source);
    const stale = cache.table();
    const a = cache.refresh(0);
    const b = cache.refresh(0);
    expect(reads.map((r) => r.consistency)).toEqual(['stale']);
    reads[0]!.fail(new Error('replica down'));
    await expect(stale).rejects.toThrow('replica down');
    await tick();
    expect(reads.map((r) => r.consistency)).toEqual(['stale', 'linearizable']);
    reads[1]!.answer(table);
    expect((await a).consistency).toBe('linearizable');
    expect(await b).toBe(await a);
  });

  it('refuses a table with gaps in the shard ids or a bad shape', async () => {
    for (const bad of [
      { ...table, shards: [{ id: 1, epoch: 1, primary: null }] },
      { ...table, shards: [] },
      { ...table, shards: [{ id: 0, epoch: -1, primary: 'n1' }] },
      { ...table, nodes: 'n1' },
    ]) {
      const cache = new RoutingCache(async () => bad);
      await expect(cache.table()).rejects.toThrow(/routing table from the coordinators/);
    }
  });

  it('leaves out a node whose address cannot be dialled', async () => {
    const cache = new RoutingCache(async () => ({ ...table, nodes: [{ id: 'n1', address: 'not an address' }] }));
    expect((await cache.table()).node('n1')).toBeUndefined();
  });
});

describe('classifyAnswer', () => {
  const answer = (status: number, body: unknown) => ({ kind: 'answer' as const, status, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });
  const error = (code: string, extra: object = {}) => ({ error: { code, message: `${code} said`, ...extra } });

  it('retries what says "not here, not now" and nothing about the request itself', () => {
    expect(classifyAnswer('PUT', answer(409, error('STALE_EPOCH', { currentEpoch: 4 })))).toMatchObject({ kind: 'retry', code: 'STALE_EPOCH', details: { currentEpoch: 4 } });
    expect(classifyAnswer('PUT', answer(421, error('NOT_PRIMARY', { primary: 'n2' })))).toMatchObject({ kind: 'retry', details: { primary: 'n2' } });
    expect(classifyAnswer('GET', answer(503, error('NO_LEASE')))).toMatchObject({ kind: 'retry', code: 'NO_LEASE' });
    expect(classifyAnswer('GET', answer(503, '<html>proxy</html>'))).toMatchObject({ kind: 'retry', code: 'UNAVAILABLE', message: 'HTTP 503: <html>proxy</html>' });
    expect(classifyAnswer('GET', { kind: 'no-answer', reason: 'connection refused', timedOut: false })).toMatchObject({ kind: 'retry', code: 'UNAVAILABLE' });
    expect(classifyAnswer('GET', { kind: 'no-answer', reason: 'no answer within 5 ms', timedOut: true })).toMatchObject({ kind: 'retry', code: 'TIMEOUT' });
    expect(classifyAnswer('PUT', answer(409, error('CONFLICT')))).toMatchObject({ kind: 'final', code: 'CONFLICT' });
    expect(classifyAnswer('PUT', answer(400, error('INVALID_INPUT')))).toMatchObject({ kind: 'final', status: 400 });
    expect(classifyAnswer('PUT', answer(413, error('PAYLOAD_TOO_LARGE', { limitBytes: 9 })))).toMatchObject({ kind: 'final', details: { limitBytes: 9 } });
    // A 400 is final even if its body names a retryable code.
    expect(classifyAnswer('PUT', answer(400, error('UNAVAILABLE')))).toMatchObject({ kind: 'final' });
  });

  it('reads a missing key as null for GET and done for DELETE, but not a missing route', () => {
    expect(classifyAnswer('GET', answer(404, error('NOT_FOUND', { resource: 'key' })))).toEqual({ kind: 'done', value: null });
    expect(classifyAnswer('GET', answer(404, ''))).toEqual({ kind: 'done', value: null });
    expect(classifyAnswer('DELETE', answer(404, error('NOT_FOUND')))).toEqual({ kind: 'done', value: null });
    expect(classifyAnswer('PUT', answer(404, error('NOT_FOUND')))).toMatchObject({ kind: 'final', code: 'NOT_FOUND' });
    expect(classifyAnswer('GET', answer(404, error('NOT_FOUND', { resource: 'route' })))).toMatchObject({ kind: 'final' });
  });

  it('refuses a value above the limit', () => {
    expect(classifyAnswer('GET', { kind: 'too-large', status: 200, limitBytes: 10 })).toMatchObject({ kind: 'final', code: 'PAYLOAD_TOO_LARGE' });
  });
});
