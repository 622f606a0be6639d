/**
 * BullMQ processor for `export` jobs: runs the export pipeline, records progress, and
 * queues the verify-and-publish job.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { exportTable, type ExportProgress } from '../src/pipeline/index.js';
import { describeError, isCorrenteError, isRetryable } from '../src/shared/errors.js';
import { formatTableRef } from '../src/shared/table-schema.js';
import { enqueueVerify, exportJobSchema, parseJobData, type ExportJobData } from '../queues/index.js';
import type { WorkerContext } from './worker-context.js';

export function createExportProcessor(ctx: WorkerContext) {
  return async (job: Job<ExportJobData>, _token?: string, signal?: AbortSignal): Promise<{ rows: number; files: number }> => {
    const data = parseJobData(exportJobSchema, job.data, 'export');
    const table = formatTableRef(data.table);
    const log = ctx.logger.child({ runId: data.runId, table, jobId: job.id, attempt: job.attemptsMade + 1 });
    await ctx.runs.update(data.runId, data.table, { state: 'exporting', startedAt: new Date().toISOString(), attempts: job.attemptsMade + 1 });
    let pending: Promise<unknown> = Promise.resolve();
    const onProgress = (p: ExportProgress): void => {
      // Progress writes are fire-and-forget but ordered, so a slow Redis never stalls the stream.
      pending = pending.then(() =>
        Promise.all([
          job.updateProgress({ rows: p.rows, estimatedRows: p.estimatedRows, bytesRead: p.bytesRead }),
          ctx.runs.update(data.runId, data.table, { rows: p.rows, estimatedRows: p.estimatedRows, files: p.filesWritten }),
        ]).catch(() => {}),
      );
    };
    try {
      const staged = await exportTable(
        { pool: ctx.pool, postgresUrl: ctx.config.postgres.url, store: ctx.store, buckets: ctx.config.storage.buckets, config: ctx.config.export, logger: log },
        { runId: data.runId, table: data.table, layer: data.layer, ...(data.columns ? { columns: data.columns } : {}) },
        { ...(signal ? { signal } : {}), onProgress },
      );
      await pending;
      const m = staged.manifest;
      await ctx.runs.update(data.runId, data.table, {
        state: 'verifying',
        rows: m.totals.rows,
        bytes: m.totals.bytes,
        files: m.totals.files,
        exportSeconds: m.timings.exportSeconds,
      });
      await enqueueVerify(ctx.queues, { runId: data.runId, table: data.table, bucket: m.bucket });
      return { rows: m.totals.rows, files: m.totals.files };
    } catch (err) {
      await pending;
      const final = !isRetryable(err) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log.error({ err: { message: describeError(err), code: isCorrenteError(err) ? err.code : undefined }, final }, 'export failed');
      await ctx.runs.update(data.runId, data.table, {
        state: final ? 'failed' : 'queued',
        error: { code: isCorrenteError(err) ? err.code : 'INTERNAL', message: describeError(err) },
      });
      if (!isRetryable(err)) throw new UnrecoverableError(describeError(err));
      throw err;
    }
  };
}
