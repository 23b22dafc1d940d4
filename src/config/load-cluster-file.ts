import { readFile } from 'node:fs/promises';
import { ConfigError, ConfigErrorCode } from '../errors/index.js';
import { clusterFileSchema, type ClusterFile } from './cluster-file.js';
import { findJsonSyntaxProblem } from './json-syntax.js';
import { formatZodIssues } from '../common/zod-issues.js';

/**
 * Checks a parsed cluster file. `source` names it in messages (the path, as
 * the user typed it). Throws a ConfigError with one line per problem, each
 * `source: field: expected …, got …`.
 */
export function parseClusterFile(value: unknown, source: string): ClusterFile {
  const result = clusterFileSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issues = formatZodIssues(result.error.issues, value);
  throw new ConfigError(
    { code: ConfigErrorCode.Invalid, file: source, issues },
    issues.map((line) => `${source}: ${line}`).join('\n'),
  );
}

/** Parses JSON text, naming the line and column of a syntax error. */
export function parseClusterFileText(text: string, source: string): ClusterFile {
  // Editors on some systems save a byte-order mark, which JSON.parse refuses.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    const where = findJsonSyntaxProblem(json);
    if (where === undefined) {
      throw new ConfigError({ code: ConfigErrorCode.InvalidJson, file: source }, `${source}: invalid JSON: ${(e as Error).message}`);
    }
    throw new ConfigError(
      { code: ConfigErrorCode.InvalidJson, file: source, line: where.line, column: where.column },
      `${source}: invalid JSON at line ${where.line}, column ${where.column}: ${where.problem}`,
    );
  }
  return parseClusterFile(value, source);
}

/** Reads and checks the cluster file at `path`. */
export async function loadClusterFile(path: string): Promise<ClusterFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason =
      err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new ConfigError({ code: ConfigErrorCode.ReadFailed, file: path, reason }, `${path}: cannot read the cluster file: ${reason}`, { cause: e });
  }
  return parseClusterFileText(text, path);
}
