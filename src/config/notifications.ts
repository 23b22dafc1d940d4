import { z } from 'zod';
import { intInRange, strictObject } from './fields.js';

/** Where the leader POSTs events, from a queue that never holds up the leader. */
export const notificationsSchema = strictObject({
  // Not z.httpUrl(): it wants a domain with a dot, and a local receiver is usually 127.0.0.1:PORT.
  webhookUrl: z.url({ protocol: /^https?$/, hostname: z.regexes.hostname, error: 'expected an http:// or https:// URL' }).optional(),
  /** One POST gives up after this. */
  timeoutMs: intInRange(100, 60_000).default(2_000),
  /** Tries per event (with capped exponential backoff) before it is dropped and logged. */
  maxAttempts: intInRange(1, 100).default(5),
});

export type NotificationSettings = z.infer<typeof notificationsSchema>;
