/**
 * The software version a coordinator or data node reports: the `version` of
 * the package.json of the copy of Torua that runs, read once at start (the
 * nearest package.json above this module: src/cli/ when run from source,
 * dist/src/cli/ when built). A rolling upgrade starts a node from another
 * copy and sees that copy's version.
 */
import { existsSync, readFileSync } from 'node:fs';

/** src/cli → the root is 2 levels up; dist/src/cli → 3. */
const MAX_LEVELS_UP = 4;

function readVersion(): string {
  let dir = new URL('./', import.meta.url);
  for (let i = 0; i < MAX_LEVELS_UP; i++) {
    dir = new URL('../', dir);
    const file = new URL('package.json', dir);
    if (!existsSync(file)) continue;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
    if (typeof version !== 'string' || version.length === 0 || version.length > 64) {
      throw new Error(`${file.pathname}: expected a "version" string of 1–64 characters`);
    }
    return version;
  }
  throw new Error(`no package.json within ${MAX_LEVELS_UP} levels above ${new URL('./', import.meta.url).pathname}`);
}

export const PACKAGE_VERSION = readVersion();
