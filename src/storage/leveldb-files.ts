import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * What a store learns from LevelDB's files rather than its API.
 *
 * The binding (classic-level) exposes neither `paranoid_checks` nor
 * `verify_checksums` (Level/leveldown#172). Without them, LevelDB recovers a
 * write-ahead log with a bad record by dropping it (synced or not), writes
 * what is left into a table and deletes the log: the loss is silent and its
 * evidence gone by the next start. leveldb-logs.ts catches damaged records
 * before LevelDB sees them; for what only LevelDB notices (e.g. fragments out
 * of order) it still writes its info log, which the store reads after opening
 * and, when corruption was reported, leaves a quarantine file that keeps
 * refusing later starts.
 */

/** Written next to LevelDB's files once corruption was seen; only wiping or restoring the directory clears it. */
export const QUARANTINE_FILE = 'TORUA-QUARANTINE';

/**
 * Lines of LevelDB's info log that report corruption. LevelDB moves the old
 * log to LOG.old on every open, so LOG covers this open only.
 */
export async function corruptionReported(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'LOG'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text.split('\n').filter((line) => line.includes('Corruption:'));
}

export async function readQuarantine(dir: string): Promise<string | undefined> {
  return (await readIfPresent(path.join(dir, QUARANTINE_FILE)))?.toString('utf8');
}

/** The file's bytes, or undefined when it does not exist (never written, or deleted meanwhile). */
export async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Makes the directory's entries durable: a file created in it survives a power cut only after this. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Durably records why this directory must not be used again. */
export async function quarantine(dir: string, reason: string): Promise<void> {
  const file = await open(path.join(dir, QUARANTINE_FILE), 'w');
  try {
    await file.writeFile(`${reason}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await syncDir(dir);
}

/**
 * True when LevelDB holds no data at all: no table file and only empty logs.
 * An empty database with data files is not new: its records were lost.
 */
export async function holdsNoData(dir: string): Promise<boolean> {
  for (const name of await readdir(dir)) {
    if (name.endsWith('.ldb') || name.endsWith('.sst')) return false;
    if (name.endsWith('.log') && (await stat(path.join(dir, name))).size > 0) return false;
  }
  return true;
}
