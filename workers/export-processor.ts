/**
 * BullMQ processor for `export` jobs. A table job opens the snapshot and either exports
 * the table (then queues its verify job) or, for a large table, queues one chunk job
 * per range as a flow and holds the snapshot for them. A chunk job exports its range.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { exportChunk, exportTable, type ExportProgress } from '../src/pipeline/index.js';
import { describeError, isCorrenteError } from '../src/shared/errors.js';
import { formatTableRef } from '../src/shared/table-schema.js';
import { enqueueChunkedExport, enqueueVerify, exportJobSchema, parseJobData, type ExportJobData } from '../queues/index.js';
import { shouldRetry } from './job-failure.js';
import { exportDepsOf, type WorkerContext } from './worker-context.js';

export interface ExportJobResult {
  rows?: number;
  files?: number;
  chunks?: number;
}

export function createExportProcessor(ctx: WorkerContext) {
  return async (job: Job<ExportJobData>, _token?: string, signal?: AbortSignal): Promise<ExportJobResult> => {
    const data = parseJobData(exportJobSchema, job.data, 'export');
    const table = formatTableRef(data.table);
    const log = ctx.logger.child({ runId: data.runId, table, jobId: job.id, attempt: job.attemptsMade + 1, ...(data.chunk ? { chunk: data.chunk.index } : {}) });
    const deps = exportDepsOf(ctx, log);
    const req = { runId: data.runId, table: data.table, layer: data.layer, ...(data.columns ? { columns: data.columns } : {}) };
    let pending: Promise<unknown> = Promise.resolve();
    const onProgress = (p: ExportProgress): void => {
      // Ordered fire-and-forget writes, so a slow Redis never stalls the stream.
      pending = pending.then(() =>
        Promise.all([
          job.updateProgress({ rows: p.rows, estimatedRows: p.estimatedRows, bytesRead: p.bytesRead }),
          data.chunk
            ? ctx.runs.setChunkRows(data.runId, data.table, data.chunk.index, p.rows)
            : ctx.runs.update(data.runId, data.table, { rows: p.rows, estimatedRows: p.estimatedRows, files: p.filesWritten }),
        ]).catch(() => {}),
      );
    };
    const options = { ...(signal ? { signal } : {}), onProgress };
    try {
      if (data.chunk) {
        const result = await exportChunk(deps, req, data.chunk, options);
        await pending;
        const rows = result.files.reduce((n, f) => n + f.rows, 0);
        await ctx.runs.setChunkRows(data.runId, data.table, data.chunk.index, rows);
        return { rows, files: result.files.length };
      }
      await ctx.runs.update(data.runId, data.table, { state: 'exporting', startedAt: new Date().toISOString(), attempts: job.attemptsMade + 1 });
      const outcome = await exportTable(deps, req, options);
      await pending;
      if (outcome.kind === 'chunked') {
        const { snapshot, ranges } = outcome;
        const chunks = ranges.map((range, index) => ({ ...data, chunk: { index, total: ranges.length, snapshotId: snapshot.id, snapshotTime: snapshot.time, range, ...(outcome.arrays ? { arrays: outcome.arrays } : {}) } }));
        let parentId: string;
        try {
          parentId = await enqueueChunkedExport(ctx.queues, { ...req, bucket: ctx.config.storage.buckets[data.layer], chunks: ranges.length }, chunks);
        } catch (err) {
          await snapshot.release();
          throw err;
        }
        ctx.snapshots.hold(snapshot, async () => (await ctx.queues.verify.getJobState(parentId)) !== 'waiting-children', ctx.config.worker.jobTimeoutMinutes * 60_000);
        await ctx.runs.update(data.runId, data.table, { estimatedRows: outcome.estimatedRows, chunks: ranges.length });
        log.info({ chunks: ranges.length }, 'export split into chunks');
        return { chunks: ranges.length };
      }
      const m = outcome.staged.manifest;
      await ctx.runs.update(data.runId, data.table, { state: 'verifying', rows: m.totals.rows, bytes: m.totals.bytes, files: m.totals.files, exportSeconds: m.timings.exportSeconds, ...(m.timings.stages ? { stages: m.timings.stages } : {}) });
      await enqueueVerify(ctx.queues, { runId: data.runId, table: data.table, bucket: m.bucket });
      return { rows: m.totals.rows, files: m.totals.files };
    } catch (err) {
      await pending;
      const retry = shouldRetry(err, signal);
      const final = !retry || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log.error({ err: { message: describeError(err), code: isCorrenteError(err) ? err.code : undefined }, final }, 'export failed');
      await ctx.runs.update(data.runId, data.table, {
        ...(final ? { state: 'failed' as const } : data.chunk ? {} : { state: 'queued' as const }),
        error: { code: isCorrenteError(err) ? err.code : 'INTERNAL', message: describeError(err) },
      });
      if (!retry) throw new UnrecoverableError(describeError(err));
      throw err;
    }
  };
}
