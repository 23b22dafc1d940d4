// The version a process reports is its package.json's, read from the copy that runs (src/ here, dist/ when built).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../src/cli/package-version.js';
import { COORDINATOR_VERSION } from '../../src/cli/coordinator-process.js';
import { NODE_VERSION } from '../../src/cli/node-process.js';

describe('package version', () => {
  it('is the version of the package.json above the module, for coordinators and nodes alike', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    expect(COORDINATOR_VERSION).toBe(pkg.version);
    expect(NODE_VERSION).toBe(pkg.version);
  });
});
