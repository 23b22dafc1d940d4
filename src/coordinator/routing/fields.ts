/**
 * Zod schemas of the small values shared by commands and the snapshot, so a
 * value accepted in a command is exactly a value the snapshot accepts back.
 */
import { z } from 'zod';

/**
 * Letters, digits, `_`, `-`; starting with a letter or digit: the rule of the
 * cluster file's ids (src/config), which name data directories. It also keeps
 * ids safe as object keys (no `__proto__`) and in URLs and log lines.
 */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ID_RULE = 'expected 1–64 letters, digits, "_" or "-", starting with a letter or digit';

export const nodeIdSchema = z.string().regex(ID_PATTERN, ID_RULE);
export const memberIdSchema = z.string().regex(ID_PATTERN, ID_RULE);

/** A hostname, IPv4 address or bracketed IPv6 address. */
export const hostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/, 'expected a hostname, an IPv4 address or a bracketed IPv6 address');

export const portSchema = z.number().int().min(1).max(65_535);

/** `host:port`, as a data node is dialled. */
export const addressSchema = z
  .string()
  .max(260)
  .refine((s) => {
    const at = s.lastIndexOf(':');
    if (at <= 0) return false;
    const port = s.slice(at + 1);
    return hostSchema.safeParse(s.slice(0, at)).success && /^\d{1,5}$/.test(port) && portSchema.safeParse(Number(port)).success;
  }, 'expected host:port, e.g. 127.0.0.1:8081');

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
export const MAX_LABELS = 64;

export const labelsSchema = z
  .record(z.string().regex(LABEL_KEY, 'expected a label name of 1–63 letters, digits, ".", "_", "/" or "-"'), z.string().max(256))
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);

/** Wall-clock milliseconds, stamped by the leader. */
export const timeMsSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const counterSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const shardIdSchema = z.number().int().min(0).max(65_535);
export const capacitySchema = z.number().int().min(0).max(1_000_000);
export const softwareVersionSchema = z.string().max(64);
export const identitySchema = z.string().min(1).max(128);
export const reasonSchema = z.string().max(1_000);
/** Who asked for a change: a token name or a certificate subject. */
export const actorSchema = z.string().min(1).max(256);
