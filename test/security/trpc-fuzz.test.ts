// Every tRPC procedure with hostile input, in process (createCaller, as the
// HTTP adapter calls it), from an admin so that every input reaches its
// schema: never an INTERNAL (500) answer, never a crash, and a refused call
// leaves the routing table and the membership exactly as they were.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { appRouter, createAppCaller, type ApiContext } from '../../src/api/coordinator/index.js';
import { describeError } from '../../src/api/coordinator/errors/describe-error.js';
import { stateHash } from '../../src/coordinator/routing/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, registerCommand } from '../api/fake-service.js';
import { FUZZ_RUNS, FUZZ_SEED, FUZZ_TIMEOUT_MS } from './fuzz-support.js';

/** A valid input of each procedure: the fuzzer bends these, so that most cases get past the first check. */
const SAMPLES: Readonly<Record<string, unknown>> = {
  'cluster.health': undefined,
  'cluster.info': { consistency: 'stale' },
  'cluster.plan': { fail: ['n1'] },
  'members.list': undefined,
  'members.add': { id: 'c4', host: '127.0.0.4', apiPort: 7004, peerPort: 7104 },
  'members.remove': { id: 'c4' },
  'members.transferLeader': { to: 'c1' },
  'nodes.list': { consistency: 'stale' },
  'nodes.get': { id: 'n1' },
  'nodes.register': { id: 'n4', address: '127.0.0.1:8084', capacity: 4, labels: { zone: 'a' } },
  'nodes.setLabels': { id: 'n1', labels: { zone: 'b' } },
  'nodes.renewLease': { id: 'n1', identity: 'x'.repeat(32), recoveries: [{ shard: 0, copiedKeys: 1, totalKeys: 2 }], load: [{ shard: 0, readsPerS: 1, writesPerS: 1, bytesPerS: 1 }] },
  'nodes.renewLeases': { renewals: [{ id: 'n1', identity: 'x'.repeat(32) }, { id: 'n2', identity: 'y'.repeat(32), configVersion: 1 }] },
  'nodes.drain': { id: 'n1' },
  'nodes.maintenance': { nodes: ['n2'], enabled: true, ttlMs: 60_000 },
  'nodes.evacuate': { id: 'n2' },
  'nodes.cancelEvacuation': { id: 'n2' },
  'nodes.remove': { id: 'n3' },
  'shards.list': { consistency: 'stale' },
  'shards.explain': { id: 0 },
  'shards.assign': { id: 1, primary: 'n2', replicas: ['n1'], expectedEpoch: 0 },
  'shards.setInSync': { id: 0, nodeId: 'n2', inSync: true, expectedEpoch: 1 },
  'admin.config': { consistency: 'stale' },
  'admin.snapshot': undefined,
  'admin.updateConfig': { expectedVersion: 1, settings: { maxValueBytes: 2048 } },
  'admin.rebalance': { reason: 'fuzz' },
  'events.list': { since: 0 },
  'events.subscribe': { since: 0 },
  'upgrade.status': { consistency: 'stale' },
  'upgrade.start': { to: '0.1.1', restartTimeoutMs: 60_000, reason: 'fuzz' },
  'upgrade.step': { to: '0.1.1', id: 'n1', phase: 'restart' },
  'health.confirm': { nodeId: 'n1', address: '127.0.0.1:8002' },
};

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>);
/** Calls that wait for work the fake has no driver for (a placement round): their refusals are fuzzed, not their success. */
const WAITS_WHEN_VALID = new Set(['admin.rebalance']);
const CALL_TIMEOUT_MS = 2_000;
const SERVICE_CONDITIONS = ['UNAVAILABLE', 'TIMEOUT', 'NO_LEADER', 'NO_QUORUM', 'OVERLOADED'];

const hostile = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 1e308, '', '..', '__proto__', [], {}, { constructor: 1 }, { __proto__: { id: 'n1' } }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 70 }),
  fc.integer(),
  fc.double(),
);

/** The sample with one field replaced, removed or added, or something else entirely. */
function bend(sample: unknown): fc.Arbitrary<unknown> {
  if (sample === null || typeof sample !== 'object') return hostile;
  const keys = Object.keys(sample);
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...keys), hostile).map(([k, v]) => ({ ...sample, [k]: v })) },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(sample).filter(([key]) => key !== k))) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), hostile).map(([k, v]) => ({ ...sample, [k]: v })) },
    { weight: 1, arbitrary: hostile },
    { weight: 1, arbitrary: fc.constant(sample) },
  );
}

async function seeded(): Promise<FakeCoordinatorService> {
  const service = new FakeCoordinatorService({ shards: 4 });
  for (const id of ['n1', 'n2', 'n3']) await service.propose(registerCommand(id));
  await service.propose({ type: 'assignShard', atMs: 0, reason: 'fuzz', shardId: 0, expectedEpoch: 0, primary: 'n1', replicas: ['n2'] });
  return service;
}

const services: FakeCoordinatorService[] = [];
afterAll(() => services.splice(0));

describe('tRPC inputs', () => {
  test(
    'every procedure, bent inputs: no INTERNAL, and a refused call changes nothing',
    async () => {
      const service = await seeded();
      const ctx: ApiContext = {
        service,
        nodeControl: nodeControlFor(service),
        logger: silentLogger,
        metrics: createNoopMetrics(),
        auth: { enforced: true, principal: { name: 'fuzz', role: 'admin', internal: true } },
      };
      const caller = createAppCaller(ctx) as unknown as Record<string, Record<string, (input: unknown) => Promise<unknown>>>;
      const cases = fc.constantFrom(...procedures.map(([path]) => path)).chain((path) => fc.tuple(fc.constant(path), bend(SAMPLES[path])));
      expect(procedures.map(([path]) => path).filter((p) => !(p in SAMPLES))).toEqual([]);
      await fc.assert(
        fc.asyncProperty(cases, async ([path, input]) => {
          if (WAITS_WHEN_VALID.has(path) && JSON.stringify(input) === JSON.stringify(SAMPLES[path])) return;
          const [domain, name] = path.split('.') as [string, string];
          // The fake records refused proposals too: what must not change is the table and the membership.
          const members = async () => JSON.stringify((await service.members()).map((m) => [m.id, m.host, m.apiPort, m.peerPort, m.role]));
          const before = { state: service.state, members: await members() };
          let timer: NodeJS.Timeout | undefined;
          try {
            const result = await Promise.race([
              caller[domain]![name]!(input),
              new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${path} hung for ${CALL_TIMEOUT_MS} ms on ${JSON.stringify(input)}`)), CALL_TIMEOUT_MS))),
            ]);
            // A subscription that started: end it at once.
            const iterator = result as AsyncIterator<unknown> | undefined;
            if (iterator !== null && typeof iterator === 'object' && typeof iterator.return === 'function') await iterator.return();
          } catch (err) {
            if (err instanceof Error && err.message.includes('hung for')) throw err;
            const failure = describeError(err);
            expect({ path, input, code: failure.body.error.code }).not.toMatchObject({ code: 'INTERNAL' });
            // 503/504 only as the fake cluster's own condition (no placement driver, nodes that never answer), never for the input.
            if (failure.httpStatus >= 500) expect(SERVICE_CONDITIONS, `${path} ${JSON.stringify(input)}: ${failure.body.error.message}`).toContain(failure.body.error.code);
            // The table is replaced whole on every applied change: the same object means nothing changed.
            if (service.state !== before.state) expect({ path, input, hash: stateHash(service.state) }).toEqual({ path, input, hash: stateHash(before.state) });
            expect({ path, input, members: await members() }).toEqual({ path, input, members: before.members });
          } finally {
            clearTimeout(timer);
          }
        }),
        { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
      );
      await ctx.nodeControl.close();
    },
    FUZZ_TIMEOUT_MS * 2,
  );
});
