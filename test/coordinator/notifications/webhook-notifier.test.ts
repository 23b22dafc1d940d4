// The leader's webhook against a real HTTP receiver in this process: order, retries, a receiver that hangs, a full queue.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventInfo } from '../../../src/api/coordinator/wire/event.js';
import { WebhookNotifier, type WebhookNotifierOptions } from '../../../src/coordinator/notifications/index.js';
import { createMemoryLogger, type MemoryLogger } from '../../../src/observability/index.js';
import { FakeCoordinatorService, registerCommand } from '../../api/fake-service.js';
import { waitFor } from '../../api/helpers.js';

type Mode = 'ok' | 'fail' | 'hold';

/** A webhook receiver: answers 200, 500, or holds the request until released, as told; records every body. */
class Receiver {
  readonly bodies: any[] = [];
  mode: Mode = 'ok';
  /** Requests answered 500 before the mode turns to ok (for "fails twice, then succeeds"). */
  failuresLeft = 0;
  private readonly held: ServerResponse[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      this.bodies.push(JSON.parse(data));
      if (this.failuresLeft > 0) {
        this.failuresLeft--;
        res.writeHead(500).end();
      } else if (this.mode === 'fail') res.writeHead(500).end();
      else if (this.mode === 'hold') this.held.push(res);
      else res.writeHead(204).end();
    });
  }

  /** Answers every held request with 200, and those that follow too. */
  release(): void {
    this.mode = 'ok';
    for (const res of this.held.splice(0)) res.writeHead(200).end();
  }

  get seqs(): number[] {
    return this.bodies.map((b) => b.seq as number);
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(options: Partial<WebhookNotifierOptions> = {}, service = new FakeCoordinatorService()) {
  const receiver = await new Receiver().start();
  open.push(receiver);
  const logger: MemoryLogger = createMemoryLogger('debug');
  const notifier = new WebhookNotifier(
    { webhookUrl: receiver.url, timeoutMs: 2_000, maxAttempts: 5, clusterId: 'torua-test', backoffMinMs: 5, backoffMaxMs: 20, ...options },
    { service, logger, describe: eventInfo },
  );
  open.push(notifier);
  return { receiver, notifier, service, logger };
}

/** Registers nodes n1..nk: one `node-registered` event each, seqs 1..k on a fresh service. */
async function register(service: FakeCoordinatorService, count: number, from = 1): Promise<void> {
  for (let i = from; i < from + count; i++) await service.propose(registerCommand(`n${i}`));
}

const warnings = (logger: MemoryLogger, msg: RegExp) => logger.records.filter((r) => r.level === 'warn' && msg.test(r.msg));

describe('webhook notifier', () => {
  it('POSTs every event applied while leading, in order, as /events shows it plus cluster_id', async () => {
    const { receiver, notifier, service } = await setup();
    await register(service, 5);
    await waitFor('five deliveries', () => notifier.stats().delivered === 5);
    expect(receiver.seqs).toEqual([1, 2, 3, 4, 5]);
    const [first] = service.events(0);
    expect(receiver.bodies[0]).toEqual({ ...eventInfo(first!), cluster_id: 'torua-test' });
    expect(receiver.bodies[0]).toMatchObject({ kind: 'node-registered', node: 'n1', term: 1, index: 1 });
    expect(notifier.stats()).toMatchObject({ delivered: 5, failed: 0, dropped: 0, queued: 0 });
  });

  it('retries with backoff: a receiver that fails twice and then succeeds gets the event, and the next after it', async () => {
    const { receiver, notifier, service, logger } = await setup();
    receiver.failuresLeft = 2;
    await register(service, 2);
    await waitFor('both events delivered', () => notifier.stats().delivered === 2);
    expect(receiver.seqs).toEqual([1, 1, 1, 2]);
    expect(logger.records.filter((r) => r.msg === 'webhook delivery attempt failed').map((r) => r.fields['attempt'])).toEqual([1, 2]);
    expect(warnings(logger, /delivery failed/)).toEqual([]);
  });

  it('skips an event after maxAttempts, logging it once, and goes on with the next', async () => {
    const { receiver, notifier, service, logger } = await setup({ maxAttempts: 3 });
    receiver.mode = 'fail';
    await register(service, 1);
    await waitFor('the event given up', () => notifier.stats().failed === 1);
    expect(receiver.seqs).toEqual([1, 1, 1]);
    const failed = warnings(logger, /delivery failed/);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.fields).toMatchObject({ seq: 1, attempts: 3, error: 'answered HTTP 500' });
    receiver.mode = 'ok';
    await register(service, 1, 2);
    await waitFor('the next event', () => notifier.stats().delivered === 1);
    expect(receiver.seqs.at(-1)).toBe(2);
  });

  it('a receiver that hangs holds up nothing: proposals complete, the queue keeps accepting within its bound', async () => {
    const { receiver, notifier, service, logger } = await setup({ maxQueued: 5 });
    receiver.mode = 'hold';
    await register(service, 1);
    await waitFor('the first POST to arrive', () => receiver.bodies.length === 1);
    // Every proposal resolves while the receiver sits on the first POST.
    await register(service, 20, 2);
    expect(service.events(0)).toHaveLength(21);
    expect(receiver.bodies).toHaveLength(1);
    expect(notifier.stats()).toMatchObject({ queued: 5, dropped: 15, delivered: 0 });
    const drops = warnings(logger, /queue full/);
    expect(drops.length).toBeGreaterThanOrEqual(1);
    expect(drops[0]?.fields).toMatchObject({ maxQueued: 5 });
  });

  it('drops the oldest events beyond the bound: after the receiver answers, the newest ones are delivered', async () => {
    const { receiver, notifier, service, logger } = await setup({ maxQueued: 3, dropLogIntervalMs: 60_000 });
    receiver.mode = 'hold';
    await register(service, 1);
    await waitFor('the first POST to arrive', () => receiver.bodies.length === 1);
    await register(service, 9, 2);
    receiver.release();
    await waitFor('the first and the three newest events', () => notifier.stats().delivered === 4);
    expect(receiver.seqs).toEqual([1, 8, 9, 10]);
    expect(notifier.stats().dropped).toBe(6);
    // One line for the burst (the interval holds the rest back), naming how many went.
    const drops = warnings(logger, /queue full/);
    expect(drops).toHaveLength(1);
    expect(drops[0]?.fields).toMatchObject({ dropped: 1, droppedTotal: 1 });
  });

  it('a POST that gets no answer gives up at timeoutMs and is retried', async () => {
    const { receiver, notifier, service } = await setup({ timeoutMs: 50, maxAttempts: 2 });
    receiver.mode = 'hold';
    await register(service, 1);
    await waitFor('the retry after the timeout', () => receiver.bodies.length === 2);
    receiver.release();
    await waitFor('the retry answered', () => notifier.stats().delivered === 1);
    expect(receiver.seqs).toEqual([1, 1]);
  });

  it('sends only while leading: nothing as a follower, the events after it became leader, nothing after it stopped', async () => {
    const service = new FakeCoordinatorService().followerOf('c2');
    const { receiver, notifier } = await setup({}, service);
    await register(service, 2);
    service.becomeLeader();
    await register(service, 2, 3);
    await waitFor('the events applied while leading', () => notifier.stats().delivered === 2);
    expect(receiver.seqs).toEqual([3, 4]);
    service.followerOf('c2');
    await register(service, 1, 5);
    expect(notifier.stats()).toMatchObject({ queued: 0, delivered: 2 });
    expect(receiver.seqs).toEqual([3, 4]);
  });
});
