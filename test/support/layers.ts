// The one-way layer rule of DESIGN.md §2 as a pure function over source text,
// so that a test can run it on the real tree and on made-up violations.
import path from 'node:path';
import { parseSync } from 'vite';

export interface SourceFile {
  /** Repo-relative POSIX path, e.g. `src/raft/log.ts`. */
  path: string;
  source: string;
}

export interface Violation {
  file: string;
  specifier: string;
  message: string;
}

interface LayerRule {
  /** Project layers this one may import (its own folder is always allowed). */
  layers: readonly string[];
  /** Of `layers`, those that may be imported with `import type` only. */
  typeOnly?: readonly string[];
  /** Whether npm packages and node builtins may be imported. */
  packages: boolean;
}

/** `'*'`: no restriction. Top-level files (`src/*.ts`, e.g. `src/index.ts`) are unrestricted too. */
export const LAYER_RULES: Readonly<Record<string, LayerRule | '*'>> = {
  raft: { layers: [], packages: false },
  storage: { layers: ['raft', 'config', 'errors', 'observability', 'common'], packages: true },
  transport: { layers: ['raft', 'config', 'errors', 'observability', 'tls', 'common'], packages: true },
  coordinator: { layers: ['raft', 'storage', 'transport', 'config', 'errors', 'observability', 'tls', 'common'], packages: true },
  datanode: { layers: ['raft', 'storage', 'transport', 'config', 'errors', 'observability', 'tls', 'common'], packages: true },
  api: { layers: ['coordinator', 'datanode', 'raft', 'config', 'errors', 'observability', 'tls', 'data-wire', 'common'], packages: true },
  client: { layers: ['api', 'config', 'errors', 'tls', 'data-wire', 'common'], typeOnly: ['api'], packages: true },
  config: { layers: ['errors', 'observability', 'common'], packages: true },
  errors: { layers: ['config', 'observability', 'common'], packages: true },
  observability: { layers: ['config', 'errors', 'common'], packages: true },
  /** Certificates and the servers and agents made from them: a leaf (node builtins only) that every layer above raft may use. */
  tls: { layers: ['common'], packages: true },
  /** The data path's exchanges with a node (one request, the batch frame, the batcher): shared by the smart client and the coordinators' `/data`. */
  'data-wire': { layers: ['tls', 'common'], packages: true },
  /**
   * Pure helpers that several layers share (backoff, key hash, key rule, byte codec, zod issue wording):
   * a leaf that imports no other layer, so that any layer above raft may use it.
   */
  common: { layers: [], packages: true },
  cli: '*',
};

/** Packages that exactly one layer may import. */
export const PACKAGE_OWNERS: Readonly<Record<string, string>> = {
  'prom-client': 'observability',
};

export interface ImportRef {
  /** The specifier, or undefined for a dynamic import whose argument is not a plain string. */
  specifier: string | undefined;
  /** Erased at compile time: `import type`, all-`type` specifiers, `typeof import(...)`. */
  typeOnly: boolean;
}

type Node = { type: string; [key: string]: unknown };

const isNode = (v: unknown): v is Node =>
  typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

function literal(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && (node.expressions as unknown[]).length === 0) {
    const [quasi] = node.quasis as { value: { cooked: string } }[];
    return quasi?.value.cooked;
  }
  return undefined;
}

function allType(specifiers: unknown, kindKey: 'importKind' | 'exportKind'): boolean {
  const list = specifiers as Node[];
  return list.length > 0 && list.every((s) => s[kindKey] === 'type');
}

/** Every module reference in a TypeScript source (comments and strings do not count). */
export function extractImports(file: SourceFile): { refs: ImportRef[]; errors: string[] } {
  const result = parseSync(file.path, file.source, { lang: 'ts', sourceType: 'module' });
  const refs: ImportRef[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (isNode(value)) {
      const n = value;
      switch (n.type) {
        case 'ImportDeclaration':
          refs.push({ specifier: literal(n.source), typeOnly: n.importKind === 'type' || allType(n.specifiers, 'importKind') });
          break;
        case 'ExportNamedDeclaration':
          if (n.source) refs.push({ specifier: literal(n.source), typeOnly: n.exportKind === 'type' || allType(n.specifiers, 'exportKind') });
          break;
        case 'ExportAllDeclaration':
          refs.push({ specifier: literal(n.source), typeOnly: n.exportKind === 'type' });
          break;
        case 'ImportExpression':
          refs.push({ specifier: literal(n.source), typeOnly: false });
          break;
        case 'TSImportType':
          refs.push({ specifier: literal(n.source ?? n.argument), typeOnly: true });
          break;
        case 'TSExternalModuleReference':
          refs.push({ specifier: literal(n.expression), typeOnly: false });
          break;
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (key !== 'type' && typeof child === 'object') visit(child);
    }
  };
  visit(result.program);
  return { refs, errors: result.errors.map((e) => e.message) };
}

/** `src/raft/log.ts` → `raft`; `src/index.ts` → `''` (top level); outside src → undefined. */
export function layerOf(repoPath: string): string | undefined {
  const parts = path.posix.normalize(repoPath).split('/');
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return parts.length === 2 ? '' : parts[1];
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Checks files (paths under `src/`) against LAYER_RULES and PACKAGE_OWNERS. */
export function checkLayers(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  const unknownReported = new Set<string>();

  for (const file of files) {
    const from = layerOf(file.path);
    if (from === undefined) continue;
    const rule = from === '' ? '*' : LAYER_RULES[from];
    if (rule === undefined) {
      if (!unknownReported.has(from)) {
        unknownReported.add(from);
        violations.push({
          file: file.path,
          specifier: '',
          message: `src/${from}/ is not in LAYER_RULES (test/support/layers.ts): add it with the layers it may import (DESIGN.md §2)`,
        });
      }
      continue;
    }
    const add = (specifier: string, message: string) => violations.push({ file: file.path, specifier, message });
    const { refs, errors } = extractImports(file);
    for (const e of errors) add('', `cannot parse: ${e}`);

    for (const { specifier, typeOnly } of refs) {
      if (specifier === undefined) {
        if (rule !== '*') add('<computed>', 'dynamic import with a computed specifier: the layer rule cannot check it');
        continue;
      }
      const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';
      if (!relative) {
        const external = specifier.startsWith('node:') || (/^[@\w]/.test(specifier) && !/^[a-z][\w+.-]*:/i.test(specifier));
        if (!external) {
          if (rule !== '*') add(specifier, 'only relative paths, packages and node builtins can be checked');
          continue;
        }
        const owner = PACKAGE_OWNERS[packageName(specifier)];
        if (owner !== undefined && owner !== from) add(specifier, `only src/${owner}/ may import ${packageName(specifier)}`);
        else if (rule !== '*' && !rule.packages) add(specifier, `src/${from}/ may not import packages or node builtins`);
        continue;
      }
      if (rule === '*') continue;
      const target = path.posix.join(path.posix.dirname(file.path), specifier);
      const to = layerOf(target);
      if (to === from) continue;
      if (to === undefined) add(specifier, `src/${from}/ may not import from outside src/ (${target})`);
      else if (to === '') add(specifier, `src/${from}/ may not import the top-level ${target}`);
      else if (!rule.layers.includes(to)) {
        const allowed = rule.layers.length ? rule.layers.join(', ') : 'no other layer';
        add(specifier, `src/${from}/ may not import src/${to}/ (allowed: ${allowed})`);
      } else if (rule.typeOnly?.includes(to) && !typeOnly) add(specifier, `src/${from}/ may import src/${to}/ with \`import type\` only`);
    }
  }
  return violations;
}
