/** What the server records about one HTTP exchange; the handler fills it in as it learns it. */
export interface Exchange {
  /** The route pattern (`/nodes/:id/info`, `/trpc/nodes.get`), never the raw path, so metric labels stay bounded. */
  route: string;
  receivedBytes: number;
}

/** The route label of a request no route matched. */
export const UNMATCHED_ROUTE = ':unmatched';
