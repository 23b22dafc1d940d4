/**
 * Bounds of the data node's API. The data path carries values up to the
 * cluster's maxValueBytes (16 MiB by default); replication and recovery carry
 * them as base64 inside JSON, which is a third larger.
 */

/**
 * Largest tRPC request body: a replication batch of maximum size, with a
 * 16 MiB value as base64 (≈ 22 MiB) and its JSON around it, fits.
 */
export const DEFAULT_MAX_TRPC_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Connections a data node's server holds at once (smart clients, peers,
 * coordinators together); one more is closed at once, so a flood of idle
 * connections cannot exhaust the node's file descriptors.
 */
export const DEFAULT_MAX_NODE_CONNECTIONS = 8_192;

/** Most ops in one replication batch. */
export const MAX_OPS_PER_BATCH = 10_000;

/** Most entries a recovery page may ask for (the primary caps a page's bytes as well). */
export const MAX_RECOVERY_PAGE_ENTRIES = 10_000;

/** The largest maxValueBytes the cluster settings allow (src/config/settings.ts). */
const MAX_VALUE_BYTES_SETTING = 1024 * 1024 * 1024;

/**
 * Longest base64 string in a tRPC input: that of the largest value any
 * cluster may allow. The bounds that bite come before and after it: the
 * /trpc body limit (nothing longer is read) and the procedure's check of
 * each value's decoded size against the cluster's current maxValueBytes.
 */
export const MAX_VALUE_B64_CHARS = Math.ceil(MAX_VALUE_BYTES_SETTING / 3) * 4;

/** A /trpc body limit that lets a batch carry one value of `maxValueBytes` (as base64, with room for the JSON around it). */
export function trpcBodyLimitFor(maxValueBytes: number): number {
  return Math.max(DEFAULT_MAX_TRPC_BODY_BYTES, Math.ceil(maxValueBytes / 3) * 4 + 1024 * 1024);
}

/** Highest shard id (shard counts are far below it; see the cluster file's `shards`). */
export const MAX_SHARD_ID = 65_535;
