import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers, type SourceFile } from './support/layers.js';

const root = path.resolve(import.meta.dirname, '..');

function sourceTree(): SourceFile[] {
  return readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[mc]?ts$/.test(f))
    .map((f) => {
      const rel = path.posix.join('src', f.split(path.sep).join('/'));
      return { path: rel, source: readFileSync(path.join(root, rel), 'utf8') };
    });
}

const format = (vs: ReturnType<typeof checkLayers>) => vs.map((v) => `${v.file}: ${v.specifier} — ${v.message}`);

describe('layer rule (DESIGN.md §2)', () => {
  it('holds for every file under src/', () => {
    const files = sourceTree();
    expect(files.length).toBeGreaterThan(0);
    expect(format(checkLayers(files))).toEqual([]);
  });
});

describe('checkLayers', () => {
  const check = (p: string, source: string) => format(checkLayers([{ path: p, source }]));

  it('keeps raft free of every import outside src/raft', () => {
    expect(check('src/raft/a.ts', `import { x } from './log.js'; export * from './sub/b.js';`)).toEqual([]);
    const bad = [
      `import { put } from '../storage/log.js';`,
      `import { randomInt } from 'node:crypto';`,
      `import { z } from 'zod';`,
      `import type { Config } from '../config/index.js';`,
      `export { helper } from '../../test/support/h.js';`,
      `const m = await import('../storage/index.js');`,
      `type T = typeof import('../transport/index.js');`,
      `const m = await import(name);`,
      `import '../index.js';`,
    ];
    for (const source of bad) expect(check('src/raft/a.ts', source), source).toHaveLength(1);
  });

  it('ignores imports in comments and strings', () => {
    const source = `// import x from '../storage/a.js'\n/* import('node:fs') */\nconst s = "import y from 'zod'";\n`;
    expect(check('src/raft/a.ts', source)).toEqual([]);
  });

  it('lets storage import raft and the leaves, not the layers above', () => {
    expect(check('src/storage/a.ts', `import type { Entry } from '../raft/index.js';\nimport { Level } from 'level';\nimport { StorageError } from '../errors/index.js';`)).toEqual([]);
    expect(check('src/storage/a.ts', `import { Replica } from '../coordinator/replica.js';`)).toEqual([
      'src/storage/a.ts: ../coordinator/replica.js — src/storage/ may not import src/coordinator/ (allowed: raft, config, errors, observability, common)',
    ]);
  });

  it('keeps common a leaf that every layer above raft may import', () => {
    const helper = `import { shardForKey } from '../common/key-hash.js';`;
    for (const layer of ['storage', 'transport', 'coordinator', 'datanode', 'api', 'client', 'config', 'errors', 'observability', 'tls']) {
      expect(check(`src/${layer}/a.ts`, helper), layer).toEqual([]);
    }
    expect(check('src/raft/a.ts', helper)).toHaveLength(1);
    expect(check('src/common/a.ts', `import { sleep } from './backoff.js';\nimport type { z } from 'zod';`)).toEqual([]);
    expect(check('src/common/a.ts', `import { Errors } from '../errors/index.js';`)).toEqual([
      'src/common/a.ts: ../errors/index.js — src/common/ may not import src/errors/ (allowed: no other layer)',
    ]);
  });

  it('lets the client import api types only', () => {
    expect(check('src/client/a.ts', `import type { Router } from '../api/router.js';\nimport { type R2 } from '../api/r2.js';\nexport type { R3 } from '../api/r3.js';`)).toEqual([]);
    expect(check('src/client/a.ts', `import { router } from '../api/router.js';`)).toEqual([
      'src/client/a.ts: ../api/router.js — src/client/ may import src/api/ with `import type` only',
    ]);
    expect(check('src/client/a.ts', `import type { Replica } from '../coordinator/replica.js';`)).toHaveLength(1);
  });

  it('lets only observability import prom-client', () => {
    expect(check('src/observability/metrics.ts', `import { Registry } from 'prom-client';`)).toEqual([]);
    expect(check('src/coordinator/a.ts', `import { Counter } from 'prom-client';`)).toEqual([
      'src/coordinator/a.ts: prom-client — only src/observability/ may import prom-client',
    ]);
    expect(check('src/cli/main.ts', `import client from 'prom-client/lib/x.js';`)).toHaveLength(1);
  });

  it('leaves cli and top-level files unrestricted otherwise', () => {
    const everything = `import '../coordinator/a.js'; import 'node:fs'; import { z } from 'zod';`;
    expect(check('src/cli/main.ts', everything)).toEqual([]);
    expect(check('src/index.ts', `export * from './client/index.js'; import './raft/index.js';`)).toEqual([]);
  });

  it('asks for a table entry for a folder it does not know', () => {
    const vs = checkLayers([
      { path: 'src/gossip/a.ts', source: '' },
      { path: 'src/gossip/b.ts', source: '' },
    ]);
    expect(vs).toHaveLength(1);
    expect(vs[0]?.message).toMatch(/src\/gossip\/ is not in LAYER_RULES/);
  });
});
