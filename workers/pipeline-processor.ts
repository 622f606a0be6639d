/**
 * BullMQ processor for the `pipeline` queue. A `trigger` job (a schedule's firing) creates
 * the run of the interval that just ended, unless the pipeline is paused. A `task` job runs
 * one task of a run: it records the attempt, runs the task under its timeout while
 * watching for a cancel, and reports the outcome, which adds the downstream tasks or ends
 * the run. The worker that ends a run posts its alert.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { intervalEndingAtOrBefore, type AlertsConfig } from '../src/config/index.js';
import { commandLogOf, postWebhook } from '../src/pipeline/index.js';
import { CorrenteError, describeError, isCorrenteError } from '../src/shared/errors.js';
import { openPipelineRuns, parseJobData, pipelineJobSchema, queueRuntime, type PipelineJobData, type PipelineRunRecord, type PipelineRuns, type PipelineTaskJobData, type TaskChange } from '../queues/index.js';
import { watchCancel } from './cancel-watch.js';
import { executeTask } from './pipeline-tasks.js';
import type { WorkerContext } from './worker-context.js';

/** Errors a retry cannot fix: the task fails at once. */
const NOT_RETRIED = new Set(['CONFIG_INVALID', 'TABLE_NOT_FOUND', 'PERMISSION_DENIED', 'RUN_NOT_FOUND']);

export interface PipelineProcessorOptions {
  /** The environment commands start from (the worker's own). */
  baseEnv: Readonly<Record<string, string | undefined>>;
}

/** The JSON document an alert posts. */
export function alertSummary(run: PipelineRunRecord): Record<string, unknown> {
  return {
    event: `pipeline.run.${run.state}`,
    pipeline: run.pipeline,
    runId: run.runId,
    state: run.state,
    trigger: run.trigger,
    interval: run.interval ?? null,
    createdAt: run.createdAt,
    startedAt: run.startedAt ?? null,
    finishedAt: run.finishedAt ?? null,
    error: run.error ?? null,
    tasks: Object.entries(run.tasks).map(([name, t]) => ({ name, kind: t.kind, state: t.state, attempts: t.attempts, rows: t.rows ?? null, detail: t.detail ?? null, error: t.error?.message ?? null })),
  };
}

/** Posts the alert of an ended run, if its pipeline (or the top-level `alerts:`) asks for one. */
export async function sendAlert(ctx: WorkerContext, run: PipelineRunRecord): Promise<void> {
  const own = ctx.config.pipelines[run.pipeline]?.alerts;
  const alerts: AlertsConfig | undefined = own === false ? undefined : (own ?? ctx.config.alerts);
  if (!alerts) return;
  if (run.state !== 'failed' && !(run.state === 'succeeded' && alerts.onSuccess)) return;
  await postWebhook(alerts.webhook, alertSummary(run), { timeoutMs: alerts.timeout, retries: alerts.retries, backoffMs: alerts.backoff, logger: ctx.logger.child({ pipeline: run.pipeline, runId: run.runId }) });
}

export interface PipelineProcessor {
  (job: Job<PipelineJobData>, token?: string, signal?: AbortSignal): Promise<unknown>;
  /**
   * For the worker's `failed` event: a task job that failed for good without its processor
   * recording it (it stalled more than BullMQ allows, e.g. its workers kept dying) fails
   * its task, so the run ends instead of waiting forever.
   */
  jobFailed(job: Job<PipelineJobData> | undefined, err: Error): Promise<void>;
}

export function createPipelineProcessor(ctx: WorkerContext, options: PipelineProcessorOptions): PipelineProcessor {
  let opened: Promise<PipelineRuns> | undefined;
  const runsOf = (): Promise<PipelineRuns> => (opened ??= openPipelineRuns(queueRuntime(ctx.runtime), ctx.config, ctx.logger));
  const processor = async (job: Job<PipelineJobData>, _token?: string, signal?: AbortSignal): Promise<unknown> => {
    const data = parseJobData(pipelineJobSchema, job.data, 'pipeline');
    const runs = await runsOf();
    if (data.kind === 'trigger') return onTrigger(ctx, runs, data.pipeline, job);
    return runTask(ctx, runs, data, job, signal, options);
  };
  const jobFailed = async (job: Job<PipelineJobData> | undefined, err: Error): Promise<void> => {
    const parsed = pipelineJobSchema.safeParse(job?.data);
    if (!job || !parsed.success || parsed.data.kind !== 'task') return;
    if ((await job.getState()) !== 'failed') return;
    const { runId, task, generation } = parsed.data;
    const change = await (await runsOf()).taskFailed(runId, task, generation, { code: 'ABORTED', message: describeError(err) }, true);
    if (change.finished) await sendAlert(ctx, change.finished);
  };
  return Object.assign(processor, { jobFailed });
}

async function onTrigger(ctx: WorkerContext, runs: PipelineRuns, pipeline: string, job: Job): Promise<unknown> {
  const def = ctx.config.pipelines[pipeline];
  if (!def?.schedule) {
    ctx.logger.warn({ pipeline }, 'schedule firing for a pipeline without a schedule here: ignored (is the scheduler on another config?)');
    return { ignored: true };
  }
  if (await runs.store.isPaused(pipeline)) {
    ctx.logger.info({ pipeline }, 'schedule firing dropped: pipeline paused');
    return { paused: true };
  }
  // The firing's own time (not when a worker took it): the interval is the one ending then.
  const firedAt = new Date((job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp + (job.delay ?? 0));
  const interval = intervalEndingAtOrBefore(def.schedule, new Date(firedAt.getTime() + 999));
  const result = await runs.trigger(pipeline, { trigger: 'schedule', interval });
  ctx.logger.info({ pipeline, runId: result.runId, outcome: result.outcome }, 'schedule fired');
  return { runId: result.runId, outcome: result.outcome };
}

async function runTask(ctx: WorkerContext, runs: PipelineRuns, data: PipelineTaskJobData, job: Job, outer: AbortSignal | undefined, options: PipelineProcessorOptions): Promise<unknown> {
  const attempts = job.opts.attempts ?? 1;
  const attempt = job.attemptsMade + 1;
  const { ok, run } = await runs.taskStarted(data.runId, data.task, data.generation, attempt);
  const log = ctx.logger.child({ pipeline: run.pipeline, runId: data.runId, task: data.task, attempt });
  if (!ok) {
    log.info('task not run: its run or task already ended');
    return { ran: false };
  }
  const finish = async (change: TaskChange): Promise<void> => {
    if (change.finished) await sendAlert(ctx, change.finished);
  };
  const def = ctx.config.pipelines[run.pipeline]?.tasks[data.task];
  if (!def) {
    const err = new CorrenteError('CONFIG_INVALID', `Pipeline ${run.pipeline} has no task ${data.task} in this worker's configuration`, { hint: 'Give every worker and the scheduler the same corrente.yaml' });
    await finish(await runs.taskFailed(data.runId, data.task, data.generation, { code: err.code, message: err.toLine() }, true));
    throw new UnrecoverableError(err.toLine());
  }
  const timeoutMs = def.timeout ?? ctx.config.worker.jobTimeoutMinutes * 60_000;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new CorrenteError('ABORTED', `Task ${data.task} of ${run.pipeline} exceeded its timeout (${Math.round(timeoutMs / 1000)} s)`, { hint: `Raise pipelines.${run.pipeline}.tasks.${data.task}.timeout` })), timeoutMs);
  const cancel = watchCancel(runs.store, data.runId, data.task);
  const signal = AbortSignal.any([timeout.signal, cancel.signal, ...(outer ? [outer] : [])]);
  const t0 = performance.now();
  log.info({ kind: def.kind }, 'task started');
  try {
    const outcome = await executeTask({ ctx, runs, run, task: data.task, def, signal, baseEnv: options.baseEnv });
    if (outcome.log !== undefined) await runs.store.setLog(data.runId, data.task, outcome.log);
    log.info({ seconds: (performance.now() - t0) / 1000, detail: outcome.detail }, 'task succeeded');
    await finish(await runs.taskSucceeded(data.runId, data.task, data.generation, { ...(outcome.rows !== undefined ? { rows: outcome.rows } : {}), detail: outcome.detail }));
    return { ran: true, detail: outcome.detail };
  } catch (err) {
    const captured = commandLogOf(err);
    if (captured) await runs.store.setLog(data.runId, data.task, captured.log).catch(() => {});
    if (cancel.signal.aborted) {
      log.info('task aborted: run cancelled');
      return { ran: false, cancelled: true };
    }
    const reason = timeout.signal.aborted ? (timeout.signal.reason as CorrenteError) : err;
    const code = isCorrenteError(reason) ? reason.code : 'INTERNAL';
    const retry = !NOT_RETRIED.has(code);
    const final = !retry || attempt >= attempts;
    const message = describeError(reason);
    log.warn({ err: { code, message }, final }, 'task failed');
    await finish(await runs.taskFailed(data.runId, data.task, data.generation, { code, message }, final));
    if (!retry) throw new UnrecoverableError(message);
    throw reason instanceof Error ? reason : new Error(message);
  } finally {
    clearTimeout(timer);
    cancel.stop();
  }
}
