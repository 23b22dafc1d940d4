/** The data node's API: the HTTP server (node tRPC router + REST data path) and the router type for typed clients. */
export { startDataNodeServer, type DataNodeServer, type DataNodeServerModules, type DataNodeServerOptions } from './server.js';
export { dataNodeRouter, type DataNodeRouter } from './router.js';
export type { NodeApiContext } from './context.js';
export { DEFAULT_MAX_TRPC_BODY_BYTES, MAX_OPS_PER_BATCH, MAX_RECOVERY_PAGE_ENTRIES, trpcBodyLimitFor } from './limits.js';
