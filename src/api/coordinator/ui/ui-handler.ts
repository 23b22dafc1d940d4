/**
 * `/ui/`: the dashboard (DESIGN.md §7). The page's files come from the
 * package (built by `npm ci`), nothing from elsewhere, and the page talks
 * only to the replica that served it (the CSP says so to the browser); the
 * live data is `/ui/api/overview` plus the `events.subscribe` SSE stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiContext } from '../context.js';
import type { Exchange } from '../../http/exchange.js';
import { sendJson } from '../../http/send.js';
import { ClusterErrorCode } from '../../../errors/index.js';
import { createLeaseProbe } from './node-leases.js';
import { overview } from './overview.js';
import { DEFAULT_ASSETS_DIR, loadAssets, type StaticAsset } from './static-assets.js';

export const UI_PREFIX = '/ui';
const OVERVIEW_PATH = '/ui/api/overview';

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export interface UiHandlerOptions {
  readonly contextFor: (req: IncomingMessage) => ApiContext;
  /** Where the built page is; by default next to this module. */
  readonly assetsDir?: string;
  /** Outgoing connections (to the leader, to nodes) dial from this address. */
  readonly localAddress?: string | undefined;
}

export interface UiHandler {
  handle(req: IncomingMessage, res: ServerResponse, url: URL, exchange: Exchange): Promise<void>;
}

export function isUiPath(pathname: string): boolean {
  return pathname === UI_PREFIX || pathname.startsWith(`${UI_PREFIX}/`);
}

function sendAsset(res: ServerResponse, asset: StaticAsset, head: boolean): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.contentType, 'Content-Length': asset.body.length, 'Cache-Control': 'no-cache' });
  res.end(head ? undefined : asset.body);
}

export function createUiHandler(options: UiHandlerOptions): UiHandler {
  const assets = loadAssets(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  const leases = createLeaseProbe(options.localAddress);

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, exchange: Exchange): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      exchange.route = '/ui/*';
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${url.pathname.slice(0, 200)} (allowed: GET)` } }, { Allow: 'GET, HEAD' });
      return;
    }
    if (url.pathname === UI_PREFIX) {
      exchange.route = '/ui';
      res.writeHead(308, { Location: `${UI_PREFIX}/`, 'Content-Length': 0 });
      res.end();
      return;
    }
    if (url.pathname === OVERVIEW_PATH) {
      exchange.route = OVERVIEW_PATH;
      try {
        sendJson(res, 200, await overview(options.contextFor(req), req, leases));
      } catch (e) {
        sendJson(res, 503, { error: { code: ClusterErrorCode.Unavailable, message: `overview: ${e instanceof Error ? e.message : String(e)}` } });
      }
      return;
    }
    exchange.route = '/ui/*';
    if (assets.size === 0) {
      sendJson(res, 503, { error: { code: ClusterErrorCode.Unavailable, message: 'the dashboard is not built: run `npm run build` (npm ci does it)' } });
      return;
    }
    const rel = url.pathname.slice(UI_PREFIX.length + 1) || 'index.html';
    const asset = assets.get(rel);
    if (asset === undefined) {
      sendJson(res, 404, { error: { code: ClusterErrorCode.NotFound, message: `no dashboard file ${url.pathname.slice(0, 200)}` } });
      return;
    }
    sendAsset(res, asset, method === 'HEAD');
  }

  return { handle };
}
