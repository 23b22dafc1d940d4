/**
 * The dashboard's files, served from the folder the build fills
 * (`page/` next to this module: the page's own code and the vendored
 * library, copied from node_modules by scripts/build-ui.mjs). The folder is
 * listed once, at start: only those files are ever served, so no request
 * path reaches the file system.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where the built page lives by default. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('./page/', import.meta.url));

/** A page of a few tens of kilobytes: more than this in the folder is a packaging mistake, not a page. */
const MAX_ASSETS_BYTES = 4 * 1024 * 1024;

/** Every file under `dir` by its `/`-separated relative path; an empty map when the folder is missing (not built). */
export function loadAssets(dir: string): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  if (!fs.existsSync(dir)) return assets;
  let total = 0;
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dir, rel);
    const type = CONTENT_TYPES[path.extname(rel)];
    if (type === undefined || !fs.statSync(full).isFile()) continue;
    const body = fs.readFileSync(full);
    total += body.length;
    if (total > MAX_ASSETS_BYTES) throw new Error(`dashboard assets in ${dir} exceed ${MAX_ASSETS_BYTES} bytes`);
    assets.set(rel.split(path.sep).join('/'), { body, contentType: type });
  }
  return assets;
}
