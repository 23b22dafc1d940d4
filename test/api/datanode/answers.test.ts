import { describe, expect, it } from 'vitest';
import { checkedAnswer, leaseGrantSchema, recoveryPageAnswerSchema, replicationAckSchema } from '../../../src/api/datanode/answers.js';
import { ClusterError, ClusterErrorCode } from '../../../src/errors/index.js';

const grant = {
  leaseMs: 1000,
  leader: 'c1',
  term: 3,
  status: 'healthy',
  shardCount: 8,
  maxValueBytes: 1024,
  shards: [{ id: 2, epoch: 4, primary: 'n1', replicas: ['n2'], inSync: ['n1', 'n2'] }],
  addresses: { n1: '127.0.0.1:8081', n2: '127.0.0.1:8082' },
};

function refusal(fn: () => unknown): ClusterError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ClusterError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('answers a data node checks before acting on them', () => {
  it('passes a well-formed lease grant through unchanged', () => {
    expect(checkedAnswer(leaseGrantSchema, grant, 'c1')).toEqual(grant);
  });

  it('refuses a grant whose shard names a node without an address, naming the field', () => {
    const e = refusal(() => checkedAnswer(leaseGrantSchema, { ...grant, addresses: { n1: '127.0.0.1:8081' } }, 'the leader'));
    expect(e.code).toBe(ClusterErrorCode.Unavailable);
    expect(e.message).toMatch(/^the leader answered in a shape this node cannot use: shards\.0: names n2/);
  });

  it('refuses a grant with a shard beyond the shard count, a negative lease, an unknown status or an extra key', () => {
    expect(refusal(() => checkedAnswer(leaseGrantSchema, { ...grant, shardCount: 2 }, 'x')).message).toMatch(/shards\.0\.id/);
    expect(refusal(() => checkedAnswer(leaseGrantSchema, { ...grant, leaseMs: -1 }, 'x')).message).toMatch(/leaseMs/);
    expect(refusal(() => checkedAnswer(leaseGrantSchema, { ...grant, status: 'sleepy' }, 'x')).message).toMatch(/status/);
    expect(refusal(() => checkedAnswer(leaseGrantSchema, { ...grant, extra: 1 }, 'x')).message).toMatch(/extra/);
  });

  it('refuses a peer answer that is not an ack or a page', () => {
    expect(refusal(() => checkedAnswer(replicationAckSchema, { ackedSeq: 'ten' }, 'n2')).message).toMatch(/ackedSeq/);
    expect(refusal(() => checkedAnswer(recoveryPageAnswerSchema, { entries: [{ key: '', value: '' }], done: false }, 'n2')).message).toMatch(/entries\.0\.key/);
    expect(refusal(() => checkedAnswer(recoveryPageAnswerSchema, { entries: [{ key: 'k', value: 'not base64!' }], done: true }, 'n2')).message).toMatch(/entries\.0\.value/);
  });
});
