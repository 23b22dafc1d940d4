/** `events`: the routing table's event ring, paged (`list`) or streamed over SSE (`subscribe`). */
import { tracked } from '@trpc/server';
import { z } from 'zod';
import { strictObject } from '../../../config/index.js';
import { eventsSince } from '../../../coordinator/routing/index.js';
import { eventStream } from '../event-stream.js';
import { consistencySchema, seqSchema } from '../inputs.js';
import { readerProcedure, router } from '../trpc.js';
import { eventInfo } from '../wire/event.js';
import { readMeta } from '../wire/read-meta.js';

const listInput = strictObject({ since: seqSchema.optional(), consistency: consistencySchema.optional() }).optional();

const subscribeInput = strictObject({
  /** Events with a greater seq; left out: only events applied from now on. */
  since: seqSchema.optional(),
  /**
   * Set by tRPC's SSE link when it reconnects: the id of the last event
   * received, which is that event's seq. It wins over `since`.
   */
  lastEventId: z.string().regex(/^\d{1,16}$/, { error: 'expected the seq of an event, as a string of digits' }).optional(),
}).optional();

export const eventsRouter = router({
  list: readerProcedure.input(listInput).query(async ({ ctx, input }) => {
    const read = await ctx.service.read(input?.consistency ?? 'linearizable');
    const ring = read.state.events;
    return {
      events: eventsSince(read.state, input?.since ?? 0).map(eventInfo),
      /** The newest seq applied (0 before the first event): the `since` of the next page. */
      last_seq: ring.nextSeq - 1,
      /** The oldest seq still kept: a `since` below oldest_seq - 1 has missed events the ring dropped. */
      oldest_seq: ring.items[0]?.seq ?? ring.nextSeq,
      ...readMeta(read),
    };
  }),

  /**
   * Each event is `tracked` with its seq as id, so a client that reconnects
   * (tRPC's httpSubscriptionLink sends the last id back) resumes right after
   * the last event it got, with nothing lost or repeated while the ring still
   * holds it. Ends, detaching from the service, when the client goes away.
   */
  subscribe: readerProcedure.input(subscribeInput).subscription(async function* ({ ctx, input, signal }) {
    const from =
      input?.lastEventId !== undefined ? Number(input.lastEventId) : (input?.since ?? (await ctx.service.read('stale')).state.events.nextSeq - 1);
    for await (const e of eventStream(ctx.service, from, signal)) yield tracked(String(e.seq), eventInfo(e));
  }),
});
