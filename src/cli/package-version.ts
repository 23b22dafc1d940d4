/**
 * The software version a coordinator or data node reports: the `version` of
 * the package.json of the copy of Torua that runs (dist/cli/ and src/cli/
 * both sit two levels below it), read once at start. A rolling upgrade
 * starts a node from another copy and sees that copy's version.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) {
    throw new Error(`${file.pathname}: expected a "version" string of 1–64 characters`);
  }
  return version;
}

export const PACKAGE_VERSION = readVersion();
