/**
 * The live stream to a replica that is recovering from this primary: every
 * batch from the recovery's snapshot on, in order, one at a time, without
 * holding up the writes (its acks are not waited for). Any failure breaks
 * the stream for good; finishRecovery then refuses, and the replica starts over.
 */
import type { ReplicationBatch } from '../contract.js';
import { describe } from '../errors.js';
import { addressOf, callWithin, replicaAckTimeoutMs, type NodeContext } from '../node-context.js';

export class LiveStream {
  /** Last seq handed to the stream, and the last the replica acknowledged. */
  sentSeq: number;
  ackedSeq: number;
  broken: string | null = null;
  private tail: Promise<void> = Promise.resolve();
  private backlog = 0;

  constructor(
    private readonly ctx: NodeContext,
    readonly shard: number,
    readonly node: string,
    fromSeq: number,
  ) {
    this.sentSeq = fromSeq - 1;
    this.ackedSeq = fromSeq - 1;
  }

  push(batch: ReplicationBatch): void {
    if (this.broken !== null) return;
    if (this.backlog >= this.ctx.settings.maxLiveBacklog) {
      this.break(`${this.backlog} batches waiting: the replica does not keep up`);
      return;
    }
    this.backlog++;
    this.sentSeq = batch.firstSeq + batch.ops.length - 1;
    this.tail = this.tail.then(() => this.send(batch));
  }

  /** Resolves once every batch pushed so far was answered (or the stream broke). */
  idle(): Promise<void> {
    return this.tail;
  }

  break(why: string): void {
    if (this.broken !== null) return;
    this.broken = why;
    this.ctx.logger.info('recovering replica dropped out of the live stream', { shard: this.shard, node: this.node, reason: why });
  }

  private async send(batch: ReplicationBatch): Promise<void> {
    try {
      if (this.broken !== null) return;
      const address = addressOf(this.ctx, this.node);
      if (address === undefined) throw new Error(`no address known for ${this.node}`);
      const ack = await callWithin(this.ctx, replicaAckTimeoutMs(this.ctx), (signal) => this.ctx.peers.replicate(address, batch, signal));
      this.ackedSeq = Math.max(this.ackedSeq, ack.ackedSeq);
    } catch (e) {
      this.break(describe(e));
    } finally {
      this.backlog--;
    }
  }
}
