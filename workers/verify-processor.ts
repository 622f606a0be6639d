/**
 * BullMQ processor for the `verify` queue: `verify` jobs check a staged run against the
 * source fingerprint and publish it; `finalize` jobs (parents of chunked exports) first
 * merge the chunks into the staged run.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { finalizeChunks, verifyAndPublish } from '../src/pipeline/index.js';
import { formatTableRef } from '../src/shared/table-schema.js';
import { finalizeJobSchema, parseJobData, TableRun, verifyJobSchema, type FinalizeJobData, type VerifyJobData } from '../queues/index.js';
import { exportDepsOf, stagedSummaryOf, type WorkerContext } from './worker-context.js';

export function createVerifyProcessor(ctx: WorkerContext) {
  return async (job: Job<VerifyJobData | FinalizeJobData>, _token?: string, signal?: AbortSignal): Promise<{ published: boolean }> => {
    const finalize = job.name === 'finalize' ? parseJobData(finalizeJobSchema, job.data, 'finalize') : undefined;
    const data: VerifyJobData = finalize ?? parseJobData(verifyJobSchema, job.data, 'verify');
    const log = ctx.logger.child({ runId: data.runId, table: formatTableRef(data.table), jobId: job.id });
    const run = new TableRun(ctx.runs, data.runId, data.table);
    try {
      if (finalize) {
        const deps = exportDepsOf(ctx, log);
        const { manifest: m } = await finalizeChunks(deps, { runId: finalize.runId, table: finalize.table, layer: finalize.layer }, finalize.chunks, signal);
        await run.staged(stagedSummaryOf(m));
      }
      const { manifest, publish } = await verifyAndPublish({ store: ctx.store, config: ctx.config.export, logger: log, buckets: ctx.config.storage.buckets }, { runId: data.runId, table: data.table, bucket: data.bucket }, signal);
      await run.published({
        verification: manifest.verification.status === 'passed' ? 'passed' : 'skipped',
        verifySeconds: manifest.verification.seconds,
        uris: manifest.files.map((f) => f.uri),
        checksums: manifest.files.map((f) => `sha256:${f.sha256}`),
        schemaChanges: manifest.schemaChanges,
      });
      return { published: publish.pointerMoved };
    } catch (err) {
      const failure = await run.jobFailed(finalize ? 'finalize' : 'verify', err, job, signal);
      log.error({ err: { message: failure.message, code: failure.code }, final: failure.final }, 'verify failed');
      if (!failure.retry) throw new UnrecoverableError(failure.message);
      throw err;
    }
  };
}
