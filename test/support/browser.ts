/**
 * A real Chromium for the dashboard tests, driven by playwright-core (which
 * downloads nothing: it drives the browser the system has, Debian's
 * `chromium`, which .ci/run installs). Where there is none the tests skip
 * with a notice that says why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './cluster-harness.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser to drive: `TORUA_CHROMIUM`, or the first of the usual paths that exists. */
export function chromiumPath(): string | undefined {
  const given = process.env['TORUA_CHROMIUM'];
  if (given) return fs.existsSync(given) ? given : undefined;
  return CANDIDATES.find((p) => fs.existsSync(p));
}

export const NO_BROWSER_NOTICE = `browser tests SKIPPED: no Chromium found (looked for $TORUA_CHROMIUM and ${CANDIDATES.join(', ')}); .ci/run installs Debian's chromium`;

export function launchBrowser(executablePath: string): Promise<Browser> {
  // CI runs as root, where Chromium refuses to start with its sandbox.
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60_000 });
}

/** Where screenshots go: test-results/browser/ (not in git). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'browser');

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
