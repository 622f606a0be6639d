/**
 * BullMQ processor for `export` jobs. A table job opens the snapshot and either exports
 * the table (then queues its verify job) or, for a large table, queues one chunk job
 * per range as a flow and holds the snapshot for them. A chunk job exports its range.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { exportChunk, exportTable, type ExportProgress } from '../src/pipeline/index.js';
import { formatTableRef } from '../src/shared/table-schema.js';
import { enqueueChunkedExport, enqueueVerify, exportJobSchema, parseJobData, TableRun, type ExportJobData } from '../queues/index.js';
import { exportDepsOf, stagedSummaryOf, type WorkerContext } from './worker-context.js';

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
    const req = {
      runId: data.runId,
      table: data.table,
      layer: data.layer,
      ...(data.columns ? { columns: data.columns } : {}),
      ...(data.incremental ? { incremental: data.incremental } : {}),
      ...(data.fullRefresh ? { fullRefresh: true } : {}),
    };
    const run = new TableRun(ctx.runs, data.runId, data.table);
    let pending: Promise<unknown> = Promise.resolve();
    const onProgress = (p: ExportProgress): void => {
      // Ordered fire-and-forget writes, so a slow Redis never stalls the stream.
      pending = pending.then(() =>
        Promise.all([
          job.updateProgress({ rows: p.rows, estimatedRows: p.estimatedRows, bytesRead: p.bytesRead }),
          data.chunk
            ? ctx.runs.setChunkRows(data.runId, data.table, data.chunk.index, p.rows)
            : run.exportProgress({ rows: p.rows, estimatedRows: p.estimatedRows, files: p.filesWritten }),
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
      await run.exportStarted(job.attemptsMade + 1);
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
        await run.chunksPlanned(ranges.length, outcome.estimatedRows);
        log.info({ chunks: ranges.length }, 'export split into chunks');
        return { chunks: ranges.length };
      }
      const m = outcome.staged.manifest;
      await run.staged(stagedSummaryOf(m));
      await enqueueVerify(ctx.queues, { runId: data.runId, table: data.table, bucket: m.bucket });
      return { rows: m.totals.rows, files: m.totals.files };
    } catch (err) {
      await pending;
      const failure = await run.jobFailed(data.chunk ? 'chunk' : 'export', err, job, signal);
      log.error({ err: { message: failure.message, code: failure.code }, final: failure.final }, 'export failed');
      if (!failure.retry) throw new UnrecoverableError(failure.message);
      throw err;
    }
  };
}
