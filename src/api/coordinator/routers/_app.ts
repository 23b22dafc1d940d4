/** The coordinator API: one router per domain. Clients import `type AppRouter` only (src/client). */
import { router } from '../trpc.js';
import { adminRouter } from './admin.js';
import { clusterRouter } from './cluster.js';
import { eventsRouter } from './events.js';
import { healthRouter } from './health.js';
import { membersRouter } from './members.js';
import { nodesRouter } from './nodes.js';
import { shardsRouter } from './shards.js';
import { upgradeRouter } from './upgrade.js';

export const appRouter = router({
  cluster: clusterRouter,
  members: membersRouter,
  nodes: nodesRouter,
  shards: shardsRouter,
  admin: adminRouter,
  events: eventsRouter,
  health: healthRouter,
  upgrade: upgradeRouter,
});

export type AppRouter = typeof appRouter;
