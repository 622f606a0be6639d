/**
 * BullMQ processor for the `transform` queue: a job builds one model of a queued
 * transform run (up to date, or run, tested and published, as inline runs do), then
 * records the outcome on the run, which adds the models waiting for it, or, when it
 * failed, skips them so nothing downstream is published. A model stopped because its
 * worker is shutting down goes back to the queue for another worker (nothing of it was
 * published); one that hit the job timeout fails.
 */
import { DelayedError, type Job } from 'bullmq';
import { buildModel, createTransformDeps, failedOutcome, planTransform, USABLE_STATUSES, type TransformModelOutcome } from '../src/pipeline/index.js';
import { describeError } from '../src/shared/errors.js';
import { isFullRefreshRun, openPipelineRuns, parseJobData, pipelineTaskJobSchema, queueRuntime, shouldRetry, type PipelineJobData, type PipelineRuns } from '../queues/index.js';
import { watchCancel } from './cancel-watch.js';
import type { WorkerContext } from './worker-context.js';

export interface TransformProcessor {
  (job: Job<PipelineJobData>, token?: string, signal?: AbortSignal): Promise<unknown>;
  /** For the worker's `failed` event: a job that failed for good unrecorded (stalled too often) fails its model. */
  jobFailed(job: Job<PipelineJobData> | undefined, err: Error): Promise<void>;
}

export function createTransformProcessor(ctx: WorkerContext): TransformProcessor {
  let opened: Promise<PipelineRuns> | undefined;
  const runsOf = (): Promise<PipelineRuns> => (opened ??= openPipelineRuns(queueRuntime(ctx.runtime), ctx.config, ctx.logger));
  const deps = createTransformDeps(ctx.store, ctx.config, ctx.logger);
  const processor = async (job: Job<PipelineJobData>, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const data = parseJobData(pipelineTaskJobSchema, job.data, 'transform');
    const runs = await runsOf();
    const { ok, run } = await runs.taskStarted(data.runId, data.task, data.generation, job.attemptsMade + 1);
    const log = ctx.logger.child({ runId: data.runId, model: data.task });
    if (!ok) {
      log.info('model not run: its run or model already ended');
      return { ran: false };
    }
    let outcome: TransformModelOutcome;
    // A cancelled run (`corrente cancel`, or its pipeline task aborted) stops the model before it publishes.
    const cancel = watchCancel(runs.store, data.runId, data.task);
    try {
      // The worker's own transforms directory: every worker and the command share corrente.yaml.
      const plan = planTransform(ctx.config.transform.dir);
      outcome = await buildModel(deps, plan.graph, data.task, { runId: data.runId, fullRefresh: isFullRefreshRun(run), signal: AbortSignal.any([cancel.signal, ...(signal ? [signal] : [])]) });
    } catch (err) {
      outcome = failedOutcome({ name: data.task }, data.runId, err);
    } finally {
      cancel.stop();
    }
    if (cancel.signal.aborted) {
      log.info('model aborted: run cancelled');
      return { ran: false, cancelled: true };
    }
    if (signal?.aborted && outcome.status === 'failed' && shouldRetry(undefined, signal)) {
      // Not an attempt (BullMQ counts no DelayedError): the task stays running until another worker takes the job.
      log.info('model stopped: worker shutting down; handed back to the queue');
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    const result = outcome as unknown as Record<string, unknown>;
    if (USABLE_STATUSES.has(outcome.status)) {
      await runs.taskSucceeded(data.runId, data.task, data.generation, { ...(outcome.rows !== undefined ? { rows: outcome.rows } : {}), detail: outcome.status, result });
    } else {
      await runs.taskFailed(data.runId, data.task, data.generation, { code: outcome.errorCode ?? 'MODEL_FAILED', message: outcome.error ?? `model ${outcome.status}` }, true, { result });
    }
    log.info({ status: outcome.status, seconds: outcome.seconds }, 'model done');
    return { ran: true, status: outcome.status };
  };
  const jobFailed = async (job: Job<PipelineJobData> | undefined, err: Error): Promise<void> => {
    const parsed = pipelineTaskJobSchema.safeParse(job?.data);
    if (!job || !parsed.success || (await job.getState()) !== 'failed') return;
    const { runId, task, generation } = parsed.data;
    await (await runsOf()).taskFailed(runId, task, generation, { code: 'ABORTED', message: describeError(err) }, true);
  };
  return Object.assign(processor, { jobFailed });
}
