/** The package's version, read from its package.json (two folders above dist/src/cli, or above src/cli in a checkout). */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    try {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'torua' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not there: the other layout */
    }
  }
  return 'unknown';
}
