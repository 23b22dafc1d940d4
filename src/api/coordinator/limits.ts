/** Bounds of the coordinator API. Routing-table requests are small; the data path brings its own limits (settings.maxValueBytes). */

/** Largest request body read, REST and tRPC alike; a larger one is refused with 413 before it is buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Most calls in one tRPC batch request (the clients send none larger). */
export const MAX_TRPC_BATCH = 16;

/** Largest answer read back from the leader when forwarding (its answers are routing-table sized). */
export const MAX_FORWARDED_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * A forwarded membership change waits for the leader to add a learner, let
 * it catch up and promote it (the replica allows 30 s): wait a little longer,
 * so the leader's own TIMEOUT answer arrives rather than ours.
 */
export const DEFAULT_FORWARD_TIMEOUT_MS = 35_000;

/** SSE keep-alive: a ping this often keeps idle streams open through proxies. */
export const SSE_PING_INTERVAL_MS = 5_000;

/**
 * A client that has heard nothing (not even a ping) for this long reconnects,
 * resuming from its last event id: that is how a subscriber notices a
 * replica that hangs (SIGSTOP) or a half-open connection.
 */
export const SSE_RECONNECT_AFTER_INACTIVITY_MS = 15_000;

/** Events buffered for one slow subscriber before its stream is ended with OVERLOADED (it resumes from its last seq). */
export const MAX_PENDING_EVENTS = 10_000;

/** Event streams (SSE subscriptions) open at once per replica; more are refused with OVERLOADED. */
export const MAX_EVENT_SUBSCRIBERS = 1_024;

/** Connections the API server holds at once; the kernel's backlog holds the next ones, beyond which they are refused. */
export const MAX_API_CONNECTIONS = 8_192;
