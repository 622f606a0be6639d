/**
 * BullMQ processor for the `verify` queue: `verify` jobs check a staged run against the
 * source fingerprint and publish it; `finalize` jobs (parents of chunked exports) first
 * merge the chunks into the staged run.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { finalizeChunks, verifyAndPublish } from '../src/pipeline/index.js';
import { describeError, isCorrenteError } from '../src/shared/errors.js';
import { formatTableRef } from '../src/shared/table-schema.js';
import { finalizeJobSchema, parseJobData, verifyJobSchema, type FinalizeJobData, type VerifyJobData } from '../queues/index.js';
import { shouldRetry } from './job-failure.js';
import { exportDepsOf, type WorkerContext } from './worker-context.js';

export function createVerifyProcessor(ctx: WorkerContext) {
  return async (job: Job<VerifyJobData | FinalizeJobData>, _token?: string, signal?: AbortSignal): Promise<{ published: boolean }> => {
    const finalize = job.name === 'finalize' ? parseJobData(finalizeJobSchema, job.data, 'finalize') : undefined;
    const data: VerifyJobData = finalize ?? parseJobData(verifyJobSchema, job.data, 'verify');
    const log = ctx.logger.child({ runId: data.runId, table: formatTableRef(data.table), jobId: job.id });
    try {
      if (finalize) {
        const deps = exportDepsOf(ctx, log);
        const { manifest: m } = await finalizeChunks(deps, { runId: finalize.runId, table: finalize.table, layer: finalize.layer }, finalize.chunks, signal);
        await ctx.runs.update(data.runId, data.table, { state: 'verifying', rows: m.totals.rows, bytes: m.totals.bytes, files: m.totals.files, exportSeconds: m.timings.exportSeconds, ...(m.timings.stages ? { stages: m.timings.stages } : {}) });
      }
      const { manifest, publish } = await verifyAndPublish({ store: ctx.store, config: ctx.config.export, logger: log }, { runId: data.runId, table: data.table, bucket: data.bucket }, signal);
      await ctx.runs.update(data.runId, data.table, {
        state: 'published',
        verification: manifest.verification.status === 'passed' ? 'passed' : 'skipped',
        ...(manifest.verification.seconds !== undefined ? { verifySeconds: manifest.verification.seconds } : {}),
        uris: manifest.files.map((f) => f.uri),
        checksums: manifest.files.map((f) => `sha256:${f.sha256}`),
      });
      return { published: publish.pointerMoved };
    } catch (err) {
      const retry = shouldRetry(err, signal);
      const final = !retry || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log.error({ err: { message: describeError(err) }, final }, 'verify failed');
      if (final) {
        await ctx.runs.update(data.runId, data.table, {
          state: 'failed',
          ...(isCorrenteError(err) && err.code === 'VERIFY_MISMATCH' ? { verification: 'failed' as const } : {}),
          error: { code: isCorrenteError(err) ? err.code : 'INTERNAL', message: describeError(err) },
        });
      }
      if (!retry) throw new UnrecoverableError(describeError(err));
      throw err;
    }
  };
}
