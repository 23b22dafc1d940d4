/**
 * A partial change of the cluster settings, as `PUT /cluster/config` sends it.
 *
 * The patch schema is derived from `clusterSettingsSchema` (owned by
 * src/config) rather than written again, so a setting added there can be
 * changed at run time without touching this file. Defaults are stripped on the
 * way: a patch must not reset the fields it leaves out.
 */
import { z } from 'zod';
import { clusterSettingsSchema, type ClusterSettings } from '../../config/settings.js';
import { describeIssues, type FieldError } from '../../common/zod-issues.js';

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export type SettingsPatch = DeepPartial<ClusterSettings>;

function patchSchemaOf(schema: z.ZodType): z.ZodType {
  let inner = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject)) return inner;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(inner.shape as Record<string, z.ZodType>)) shape[key] = patchSchemaOf(field).optional();
  // Object-level refinements are not carried over: the merged result is checked with the full schema.
  return z.strictObject(shape);
}

export const settingsPatchSchema = patchSchemaOf(clusterSettingsSchema) as z.ZodType<SettingsPatch>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) out[key] = merge(base[key], value);
  return out;
}

/** `current` with `patch` laid over it, validated as a whole (so cross-field rules of the schema hold too). */
export function mergeSettings(
  current: ClusterSettings,
  patch: SettingsPatch,
): { ok: true; settings: ClusterSettings } | { ok: false; error: FieldError } {
  const parsed = clusterSettingsSchema.safeParse(merge(current, patch));
  return parsed.success ? { ok: true, settings: parsed.data } : { ok: false, error: describeIssues(parsed.error, ['settings']) };
}
