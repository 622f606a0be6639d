/**
 * Job payloads, validated on enqueue and on dequeue. They name tables and runs only:
 * no credentials and no row data ever go to Redis.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { chunkRangeSchema } from '../src/shared/chunk-range.js';
import { CorrenteError } from '../src/shared/errors.js';
import type { TableRef } from '../src/shared/table-schema.js';

const tableRef = z.object({ schema: z.string().min(1), name: z.string().min(1) });

export const exportJobSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  table: tableRef,
  layer: z.enum(['bronze', 'silver', 'gold']),
  columns: z.record(z.string(), z.object({ as: z.literal('text') })).optional(),
  /** `tables[].incremental`, as validated by the config (durations in ms). */
  incremental: z
    .union([
      z.object({
        column: z.string(),
        overlap: z.union([z.object({ ms: z.number() }), z.object({ count: z.number() })]).optional(),
        deletes: z.literal('keydiff').optional(),
        fullEvery: z.number().optional(),
      }),
      z.object({ mode: z.literal('xmin'), deletes: z.literal('keydiff').optional(), fullEvery: z.number().optional() }),
    ])
    .optional(),
  /** Export incremental tables in full this time (`migrate --full-refresh`). */
  fullRefresh: z.boolean().optional(),
  /** Set on the jobs of a chunked export: which range, inside which shared snapshot. */
  chunk: z
    .object({
      index: z.number().int().nonnegative(),
      total: z.number().int().positive(),
      snapshotId: z.string(),
      snapshotTime: z.string(),
      range: chunkRangeSchema,
      /** How each array column is stored, decided once by the planning job. */
      arrays: z.record(z.string(), z.union([z.object({ dims: z.number().int().positive() }), z.object({ text: z.string() })])).optional(),
    })
    .optional(),
});
export type ExportJobData = z.infer<typeof exportJobSchema>;

export const verifyJobSchema = z.object({
  runId: z.string(),
  table: tableRef,
  bucket: z.string(),
});
export type VerifyJobData = z.infer<typeof verifyJobSchema>;

/** The parent of a chunked export's jobs: merges the chunks, then verifies and publishes. */
export const finalizeJobSchema = exportJobSchema.omit({ chunk: true }).extend({
  bucket: z.string(),
  chunks: z.number().int().positive(),
});
export type FinalizeJobData = z.infer<typeof finalizeJobSchema>;

/** Fired by a job scheduler: migrate these tables now. */
export const scheduleJobSchema = z.object({
  scheduleId: z.string(),
  tables: z.array(z.string()).min(1),
});
export type ScheduleJobData = z.infer<typeof scheduleJobSchema>;

/** Validates a payload read from Redis (a stale or foreign job fails loudly, once). */
export function parseJobData<T>(schema: z.ZodType<T>, data: unknown, queue: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new CorrenteError('CONFIG_INVALID', `Malformed ${queue} job payload: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      hint: 'The job was enqueued by an incompatible version; re-enqueue the migration',
    });
  }
  return parsed.data;
}

/** Stable short key for a table (BullMQ ids may not contain ':'). */
export function tableKey(table: TableRef): string {
  return createHash('sha1').update(`${table.schema}\u0000${table.name}`).digest('hex').slice(0, 16);
}

/** Job id of a table's export in a run: enqueuing the same run twice adds nothing. */
export function exportJobId(runId: string, table: TableRef): string {
  return `export-${runId}-${tableKey(table)}`;
}

export function chunkJobId(runId: string, table: TableRef, index: number): string {
  return `chunk-${runId}-${tableKey(table)}-${index}`;
}

export function finalizeJobId(runId: string, table: TableRef): string {
  return `finalize-${runId}-${tableKey(table)}`;
}

export function verifyJobId(runId: string, table: TableRef): string {
  return `verify-${runId}-${tableKey(table)}`;
}

/** While one export of a table is waiting or running, a second is not added. */
export function exportDedupId(table: TableRef): string {
  return `export-${tableKey(table)}`;
}
