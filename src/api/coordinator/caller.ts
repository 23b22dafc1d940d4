/** Server-side calls of the routers, without HTTP: what the REST adapter (and tests) use. */
import { createCallerFactory } from './trpc.js';
import { appRouter } from './routers/_app.js';

export const createAppCaller = createCallerFactory(appRouter);
export type AppCaller = ReturnType<typeof createAppCaller>;
