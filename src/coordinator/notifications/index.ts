/** What the coordinator tells the outside besides its API: webhook notifications of events, and the metrics derived from the table and the transport. */
export { WebhookNotifier, type WebhookNotifierModules, type WebhookNotifierOptions, type WebhookStats } from './webhook-notifier.js';
export { postWebhook, type WebhookPost, type WebhookRequest } from './http-post.js';
export { DropOldestQueue } from './bounded-queue.js';
export { MetricsFeed, ALL_PEERS, type MetricsFeedModules } from './metrics-feed.js';
export { recoveryOutcome, shardMoveKind, type ShardMoveKind } from './move-kinds.js';
