import { describe, expect, it } from 'vitest';
import { INTERNAL_PRINCIPAL, type Access, type Principal, type RequestAuth } from '../../src/api/auth/index.js';
import { appRouter, createAppCaller, type ApiContext } from '../../src/api/coordinator/index.js';
import type { ProcedureMeta } from '../../src/api/coordinator/trpc.js';
import { ClusterErrorCode, isClusterError } from '../../src/errors/index.js';
import { createNoopMetrics, silentLogger } from '../../src/observability/index.js';
import { FakeCoordinatorService, nodeControlFor, registerCommand } from './fake-service.js';

interface ProcedureDef {
  readonly _def: { readonly type: 'query' | 'mutation' | 'subscription'; readonly meta?: ProcedureMeta };
}

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureDef>);
const ACCESS: readonly Access[] = ['open', 'reader', 'writer', 'operator', 'admin', 'internal'];

/** Changes that matter most: a mistake here opens the cluster. Procedures not listed still need a declared access. */
const EXPECTED: Readonly<Record<string, Access>> = {
  'cluster.health': 'open',
  'cluster.info': 'reader',
  'members.add': 'admin',
  'members.remove': 'admin',
  'members.transferLeader': 'admin',
  'nodes.register': 'internal',
  'nodes.renewLease': 'internal',
  'nodes.remove': 'operator',
  'nodes.drain': 'operator',
  'shards.assign': 'operator',
  'shards.setInSync': 'internal',
  'health.confirm': 'internal',
  'admin.updateConfig': 'operator',
  'admin.snapshot': 'admin',
  'events.list': 'reader',
  'events.subscribe': 'reader',
};
/** Mutations that change nothing (a dry run), and so may be a reader's. */
const READ_ONLY_MUTATIONS = new Set(['cluster.plan']);

const user = (role: Principal['role'], name: string = role): RequestAuth => ({ enforced: true, principal: { name, role, internal: false }, authorization: `Bearer ${name}.x` });
const nobody: RequestAuth = { enforced: true, principal: null, failure: 'no credentials' };

function callerFor(service: FakeCoordinatorService, auth: RequestAuth) {
  const ctx: ApiContext = { service, nodeControl: nodeControlFor(service), logger: silentLogger, metrics: createNoopMetrics(), auth };
  return createAppCaller(ctx);
}

async function codeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    return isClusterError(cause) ? cause.code : isClusterError(e) ? e.code : String(e);
  }
}

describe('every procedure declares its access', () => {
  it('the router has procedures, and each names one access of the known set', () => {
    expect(procedures.length).toBeGreaterThan(20);
    const undeclared = procedures.filter(([, p]) => !ACCESS.includes(p._def.meta?.access as Access)).map(([path]) => path);
    expect(undeclared).toEqual([]);
  });

  it('the sensitive procedures need the role the security model gives them', () => {
    const actual = Object.fromEntries(procedures.map(([path, p]) => [path, p._def.meta?.access]));
    for (const [path, access] of Object.entries(EXPECTED)) expect({ path, access: actual[path] }).toEqual({ path, access });
  });

  it('no mutation is open to readers, except a dry run', () => {
    const weak = procedures
      .filter(([path, p]) => p._def.type === 'mutation' && !READ_ONLY_MUTATIONS.has(path) && ['open', 'reader'].includes(p._def.meta?.access ?? 'open'))
      .map(([path]) => path);
    expect(weak).toEqual([]);
  });
});

describe('roles through createCaller', () => {
  it('no credentials: UNAUTHENTICATED, and nothing is proposed', async () => {
    const service = new FakeCoordinatorService();
    const caller = callerFor(service, nobody);
    expect(await codeOf(caller.nodes.list())).toBe(ClusterErrorCode.Unauthenticated);
    expect(await codeOf(caller.nodes.register({ id: 'n1', address: '127.0.0.1:8081' }))).toBe(ClusterErrorCode.Unauthenticated);
    expect(service.proposed).toEqual([]);
    // Health stays open, for load balancers and probes.
    expect((await caller.cluster.health()).id).toBe('c1');
  });

  it('a role too small: FORBIDDEN naming the role needed; nothing changes', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    await service.propose(registerCommand('n1'));
    const before = service.proposed.length;
    const reader = callerFor(service, user('reader'));
    expect((await reader.nodes.list()).nodes).toHaveLength(1);
    const err = await reader.nodes.drain({ id: 'n1' }).catch((e: unknown) => (e as { cause?: unknown }).cause);
    expect(isClusterError(err, ClusterErrorCode.Forbidden) && err.type).toMatchObject({ required: 'operator', role: 'reader' });
    expect(await codeOf(callerFor(service, user('writer')).shards.assign({ id: 0, primary: 'n1', replicas: [], expectedEpoch: 0 }))).toBe(ClusterErrorCode.Forbidden);
    expect(await codeOf(callerFor(service, user('operator')).members.add({ id: 'c9', host: '127.0.0.9', apiPort: 7009, peerPort: 7109 }))).toBe(ClusterErrorCode.Forbidden);
    expect(await codeOf(callerFor(service, user('operator')).nodes.renewLease({ id: 'n1', identity: 'x'.repeat(32) }))).toBe(ClusterErrorCode.Forbidden);
    expect(await codeOf(callerFor(service, user('operator')).health.confirm({ nodeId: 'n1', address: '127.0.0.1:8081' }))).toBe(ClusterErrorCode.Forbidden);
    expect(service.proposed.length).toBe(before);
    expect(service.membershipCalls).toEqual([]);
  });

  it('enough role: the call goes through', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    await callerFor(service, { enforced: true, principal: INTERNAL_PRINCIPAL }).nodes.register({ id: 'n1', address: '127.0.0.1:8081' });
    await callerFor(service, user('admin')).nodes.register({ id: 'n2', address: '127.0.0.1:8082' });
    await callerFor(service, user('operator')).shards.assign({ id: 0, primary: 'n1', replicas: ['n2'], expectedEpoch: 0 });
    expect((await callerFor(service, user('reader')).shards.list()).shards[0]).toMatchObject({ primary: 'n1' });
    // The internal token is an operator for everything else, never an admin.
    expect(await codeOf(callerFor(service, { enforced: true, principal: INTERNAL_PRINCIPAL }).admin.snapshot())).toBe(ClusterErrorCode.Forbidden);
  });

  it('every committed change names who asked in its event; without auth, nobody is named', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    await callerFor(service, user('operator', 'ops-alice')).nodes.register({ id: 'n1', address: '127.0.0.1:8081' }).catch(() => undefined);
    await callerFor(service, { enforced: true, principal: INTERNAL_PRINCIPAL }).nodes.register({ id: 'n1', address: '127.0.0.1:8081' });
    await callerFor(service, user('operator', 'ops-alice')).nodes.setLabels({ id: 'n1', labels: { zone: 'a' } });
    await callerFor(service, user('operator', 'ops-bob')).shards.assign({ id: 0, primary: 'n1', replicas: [], expectedEpoch: 0 });
    await callerFor(service, { enforced: false }).nodes.drain({ id: 'n1' });
    const { events } = await callerFor(service, user('reader')).events.list();
    expect(events.map((e) => [e.kind, e.by])).toEqual([
      ['node-registered', 'internal'],
      ['node-labels', 'ops-alice'],
      ['shard-assigned', 'ops-bob'],
      ['node-status', null],
    ]);
  });

  it('membership changes name who asked in their events', async () => {
    const service = new FakeCoordinatorService({ shards: 2 });
    await callerFor(service, user('admin', 'root-carol')).members.add({ id: 'c9', host: '127.0.0.9', apiPort: 7009, peerPort: 7109 });
    await callerFor(service, user('admin', 'root-dan')).members.remove({ id: 'c9' });
    const { events } = await callerFor(service, user('reader')).events.list();
    expect(events.filter((e) => e.member === 'c9').map((e) => [e.kind, e.by])).toEqual([
      ['member-added', 'root-carol'],
      ['member-promoted', 'root-carol'],
      ['member-removed', 'root-dan'],
    ]);
  });
});
