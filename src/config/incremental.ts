/**
 * Per-table incremental export options (`tables[].incremental`): which rows are new since
 * the last published run, how deletes are found, and how often a full run replaces the
 * chain of increments. Validated with the rest of the config; durations are parsed here.
 */
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Milliseconds of a duration such as `10m`, `36h`, `7d`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/** A duration written as `<number><unit>` (ms, s, m, h, d, w), turned into milliseconds. */
const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a duration; write e.g. 10m, 36h or 7d` });
    return z.NEVER;
  }
  return ms;
});

/** Options both modes share. */
const common = {
  /**
   * `keydiff`: each incremental run compares the source's primary keys with the lake's
   * and writes the missing ones as tombstones. Absent: deletes are not tracked (a full run
   * drops them).
   */
  deletes: z.enum(['keydiff']).optional(),
  /** Run a full export instead when the current full run is older than this (e.g. `7d`). */
  fullEvery: durationSchema.optional(),
};

/** Rows whose `column` is at or past the last watermark minus `overlap`. */
const columnModeSchema = z.strictObject({
  /** An orderable column: a timestamp, timestamptz, date or integer column. */
  column: z.string().min(1),
  /**
   * How far before the previous watermark the next window starts, for transactions that
   * stamped rows earlier than they committed: a duration for time columns, a count for
   * integer columns. @defaultValue 0
   */
  overlap: z.union([durationSchema.transform((ms) => ({ ms })), z.number().int().nonnegative().transform((count) => ({ count }))]).optional(),
  ...common,
});

/** Rows written by transactions the previous export's snapshot did not see (`xmin`). */
const xminModeSchema = z.strictObject({
  mode: z.literal('xmin'),
  ...common,
});

/** Validated incremental options; `overlap` and `fullEvery` in milliseconds (or a count). */
export type IncrementalConfig = z.output<typeof columnModeSchema> | z.output<typeof xminModeSchema>;

/**
 * `incremental:` of one table: `{ column, overlap? }` or `{ mode: xmin }`, plus
 * `deletes`/`fullEvery`. The mode is picked by the `mode` key first, so an error names the
 * exact key at fault (a union would only say that no shape matched).
 */
export const incrementalConfigSchema = z.unknown().transform((value, ctx): IncrementalConfig => {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const schema = isObject && 'mode' in value ? xminModeSchema : columnModeSchema;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});
