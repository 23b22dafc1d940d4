/**
 * A small in-memory DataNodeService for the node API tests: keys in a Map,
 * every call recorded, and any call can be made to throw a given error
 * (`failWith`), the way the engine refuses (STALE_EPOCH, NOT_PRIMARY …).
 */
import type {
  DataNodeHealth,
  DataNodeInfo,
  DataNodeService,
  HandoffDone,
  HandoffRequest,
  RecoveryBegin,
  RecoveryBeginRequest,
  RecoveryFinish,
  RecoveryFinishRequest,
  RecoveryPage,
  RecoveryPageRequest,
  ReplicationAck,
  ReplicationBatch,
} from '../../../src/datanode/contract.js';

type Method = keyof DataNodeService;

export interface RecordedCall {
  readonly method: Method;
  readonly args: readonly unknown[];
}

const LEASE = { valid: true, remainingMs: 3_000, leader: 'c1', term: 2 } as const;

export class FakeDataNode implements DataNodeService {
  readonly values = new Map<string, Uint8Array>();
  readonly calls: RecordedCall[] = [];
  private readonly failures = new Map<Method, unknown>();

  constructor(readonly id = 'n1') {}

  /** Every later call of `method` throws `err`, until `heal`. */
  failWith(method: Method, err: unknown): this {
    this.failures.set(method, err);
    return this;
  }

  heal(method: Method): this {
    this.failures.delete(method);
    return this;
  }

  private record(method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failures.has(method)) throw this.failures.get(method);
  }

  health(): DataNodeHealth {
    this.record('health');
    return { status: 'ok', id: this.id, lease: LEASE };
  }

  info(): DataNodeInfo {
    this.record('info');
    return {
      id: this.id,
      address: '127.0.0.1:8081',
      version: '0.1.0',
      status: 'healthy',
      registered: true,
      uptimeMs: 1_000,
      lease: LEASE,
      shards: [{ id: 3, role: 'primary', epoch: 4, seq: 10, keys: this.values.size, recovery: null }],
    };
  }

  async get(key: string, epoch?: number): Promise<Uint8Array | null> {
    this.record('get', key, epoch);
    return this.values.get(key) ?? null;
  }

  async put(key: string, value: Uint8Array, epoch?: number): Promise<void> {
    this.record('put', key, value, epoch);
    this.values.set(key, new Uint8Array(value));
  }

  async delete(key: string, epoch?: number): Promise<void> {
    this.record('delete', key, epoch);
    this.values.delete(key);
  }

  async replicate(batch: ReplicationBatch): Promise<ReplicationAck> {
    this.record('replicate', batch);
    return { ackedSeq: batch.ops.at(-1)?.seq ?? batch.firstSeq - 1 };
  }

  async beginRecovery(req: RecoveryBeginRequest): Promise<RecoveryBegin> {
    this.record('beginRecovery', req);
    return { recoveryId: `r-${req.shard}-${req.replica}`, snapshotSeq: 7, totalKeys: this.values.size };
  }

  async recoveryPage(req: RecoveryPageRequest): Promise<RecoveryPage> {
    this.record('recoveryPage', req);
    const entries = [...this.values].slice(0, req.limit).map(([key, value]) => ({ key, value: Buffer.from(value).toString('base64') }));
    return { entries, done: entries.length === this.values.size };
  }

  async finishRecovery(req: RecoveryFinishRequest): Promise<RecoveryFinish> {
    this.record('finishRecovery', req);
    return { epoch: 5 };
  }

  async handoff(req: HandoffRequest): Promise<HandoffDone> {
    this.record('handoff', req);
    return { lastSeq: 10, caughtUp: true };
  }

  /** The arguments of the last call of `method`. */
  lastArgs(method: Method): readonly unknown[] | undefined {
    return this.calls.filter((c) => c.method === method).at(-1)?.args;
  }
}
