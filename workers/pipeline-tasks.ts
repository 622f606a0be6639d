/**
 * What each pipeline task kind does, given the worker's context. Every kind honours the
 * signal (timeout, cancel, shutdown) and throws on failure; what it returns is recorded
 * on the task.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { PipelineTask } from '../src/config/index.js';
import { tableSelection } from '../src/config/index.js';
import { newRunId } from '../src/lake/index.js';
import { assertInputsPublished, collectGarbage, createTransformDeps, needsOf, planTransform, publishFiles, resolveSelection, runCommand } from '../src/pipeline/index.js';
import { CorrenteError } from '../src/shared/errors.js';
import { formatTableRef, parseTableRef } from '../src/shared/table-schema.js';
import { enqueueMigration, exportJobId, isRunFinished, queueTransformRun, verifyJobId, waitForDagRun, type PipelineRunRecord, type PipelineRuns } from '../queues/index.js';
import type { WorkerContext } from './worker-context.js';

/** What a finished task reports. */
export interface TaskOutcome {
  rows?: number;
  detail: string;
  /** Captured output (command tasks). */
  log?: string;
}

export interface TaskCall {
  ctx: WorkerContext;
  runs: PipelineRuns;
  run: PipelineRunRecord;
  task: string;
  def: PipelineTask;
  signal: AbortSignal;
  /** The worker process's environment, the base of a command's (the edge passes it in). */
  baseEnv: Readonly<Record<string, string | undefined>>;
}

/** Runs one task attempt. */
export async function executeTask(call: TaskCall): Promise<TaskOutcome> {
  const { def } = call;
  switch (def.kind) {
    case 'export':
      return exportTask(call, def);
    case 'transform':
      return transformTask(call, def);
    case 'command':
      return commandTask(call, def);
    case 'gc':
      return gcTask(call, def);
    case 'publish':
      return publishTask(call, def);
  }
}

/** Every lake location a command may need, as environment variables. */
function lakeEnv(call: TaskCall): Record<string, string> {
  const s = call.ctx.config.storage;
  const env: Record<string, string> = {
    CORRENTE_STORAGE: s.kind,
    CORRENTE_BUCKET_BRONZE: s.buckets.bronze,
    CORRENTE_BUCKET_SILVER: s.buckets.silver,
    CORRENTE_BUCKET_GOLD: s.buckets.gold,
  };
  if (s.kind === 'local') env.CORRENTE_LAKE = resolve(s.lakeDir);
  else if (s.s3.endpoint) {
    env.CORRENTE_LAKE = s.s3.endpoint;
    env.CORRENTE_S3_ENDPOINT = s.s3.endpoint;
  }
  return env;
}

async function commandTask(call: TaskCall, def: Extract<PipelineTask, { kind: 'command' }>): Promise<TaskOutcome> {
  const { run, task } = call;
  const env = {
    ...call.baseEnv,
    ...def.env,
    ...lakeEnv(call),
    CORRENTE_PIPELINE: run.pipeline,
    CORRENTE_RUN_ID: run.runId,
    CORRENTE_TASK: task,
    CORRENTE_TRIGGER: run.trigger,
    CORRENTE_INTERVAL_START: run.interval?.start ?? '',
    CORRENTE_INTERVAL_END: run.interval?.end ?? '',
  };
  const result = await runCommand({
    command: def.command,
    ...(def.cwd ? { cwd: def.cwd } : {}),
    env,
    signal: call.signal,
    maxLogBytes: call.ctx.config.history.logBytes,
  });
  return { detail: `exit 0 in ${result.seconds.toFixed(1)} s, ${result.outputBytes} bytes of output`, log: result.log };
}

async function exportTask(call: TaskCall, def: Extract<PipelineTask, { kind: 'export' }>): Promise<TaskOutcome> {
  const { ctx, runs, run, task, signal } = call;
  const lakeRunId = await runs.lakeRunIdOf(run.runId, task, () => newRunId({ kind: 'pipeline' }));
  const { targets } = await resolveSelection(ctx.pool, ctx.config.postgres.url, tableSelection(ctx.config, def.tables));
  // `mode: full` exports incremental tables in full; `incremental` lets each table's own `incremental:` decide.
  const options = (def.mode === 'full' ? { fullRefresh: true } : {}) as Parameters<typeof enqueueMigration>[4];
  await enqueueMigration(ctx.queues, ctx.runs, lakeRunId, targets, options);
  let rows = 0;
  for (;;) {
    if (signal.aborted) {
      // Exports not started yet never will; one already running publishes whole or not at all.
      for (const t of targets) {
        await ctx.queues.export.remove(exportJobId(lakeRunId, t.table)).catch(() => 0);
        await ctx.queues.verify.remove(verifyJobId(lakeRunId, t.table)).catch(() => 0);
      }
      signal.throwIfAborted();
    }
    const status = await ctx.runs.get(lakeRunId);
    if (status) {
      const now = status.tables.reduce((n, t) => n + t.rows, 0);
      if (now !== rows) {
        rows = now;
        await runs.taskProgress(run.runId, task, { rows, detail: `export run ${lakeRunId}` }).catch(() => {});
      }
      if (isRunFinished(status)) {
        const bad = status.tables.filter((t) => t.state !== 'published');
        if (bad.length > 0) {
          const first = bad[0]!;
          throw new CorrenteError('TASK_FAILED', `Export of ${formatTableRef(first.table)} ${first.state}${first.error ? `: ${first.error.message}` : ''}${bad.length > 1 ? ` (and ${bad.length - 1} more table(s))` : ''}`, {
            runId: lakeRunId,
            hint: `See \`corrente status ${lakeRunId}\``,
            retryable: true,
          });
        }
        return { rows, detail: `${status.tables.length} table(s) published by export run ${lakeRunId}` };
      }
    }
    await sleep(250);
  }
}

/**
 * Fans the selected models out onto the `transform` queue as a transform run (one job per
 * model, any worker) under the task's lake run id, and waits for it. A retried task
 * retries that run: its failed and skipped models run again, the published ones stay.
 */
async function transformTask(call: TaskCall, def: Extract<PipelineTask, { kind: 'transform' }>): Promise<TaskOutcome> {
  const { ctx, runs, run, task, signal } = call;
  const plan = planTransform(ctx.config.transform.dir, def.select);
  if (plan.models.length === 0) return { detail: 'no model selected' };
  await assertInputsPublished(createTransformDeps(ctx.store, ctx.config, ctx.logger), plan, signal);
  const lakeRunId = await runs.lakeRunIdOf(run.runId, task, () => newRunId({ kind: 'pipeline' }));
  const queued = await queueTransformRun(runs, lakeRunId, plan.models.map((name) => ({ name, needs: needsOf(plan, name) })), { fullRefresh: def.fullRefresh });
  if (queued.outcome === 'exists' && ['failed', 'cancelled'].includes(queued.run.state)) await runs.retry(lakeRunId);
  let models: PipelineRunRecord;
  try {
    models = await waitForDagRun(runs.store, lakeRunId, { signal });
  } catch (err) {
    // Models not started never will; a running one publishes whole or not at all.
    if (signal.aborted) await runs.cancel(lakeRunId).catch(() => {});
    throw err;
  }
  const results = Object.values(models.tasks);
  const rows = results.reduce((n, m) => n + (m.rows ?? 0), 0);
  const built = results.filter((m) => m.detail === 'published').length;
  const current = results.filter((m) => m.detail === 'up-to-date').length;
  if (models.state !== 'succeeded') {
    const [name, bad] = Object.entries(models.tasks).find(([, m]) => m.state === 'failed') ?? Object.entries(models.tasks).find(([, m]) => m.state !== 'succeeded')!;
    throw new CorrenteError('TASK_FAILED', `Model ${name} ${bad.state}${bad.error ? `: ${bad.error.message}` : ''}`, {
      runId: lakeRunId,
      hint: `${built + current} of ${results.length} model(s) published or up to date; the others keep their previous run`,
      retryable: true,
    });
  }
  return { rows, detail: `${built} model(s) published, ${current} up to date, by transform run ${lakeRunId}` };
}

async function gcTask(call: TaskCall, def: Extract<PipelineTask, { kind: 'gc' }>): Promise<TaskOutcome> {
  const { ctx, signal } = call;
  const buckets = [...new Set(Object.values(ctx.config.storage.buckets))];
  const report = await collectGarbage(ctx.store, buckets, {
    keepRuns: def.keep ?? ctx.config.export.keepRuns,
    olderThanMs: def.olderThanHours * 3_600_000,
    signal,
    logger: ctx.logger,
  });
  const removed = report.tables.reduce((n, t) => n + t.removed.length, 0);
  return { detail: `${removed} run(s) removed` };
}

/** The files a `from:` path or last-segment glob (`out/*.parquet`) names, sorted. */
function filesOf(pattern: string, option: string): string[] {
  const name = basename(pattern);
  if (!/[*?]/.test(name)) return [pattern];
  const dir = dirname(pattern);
  const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const hits = existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort() : [];
  if (hits.length === 0) throw new CorrenteError('TASK_FAILED', `No file matches ${pattern}`, { option, hint: 'Check that the task producing the files ran and wrote them there', retryable: true });
  return hits.map((f) => join(dir, f));
}

async function publishTask(call: TaskCall, def: Extract<PipelineTask, { kind: 'publish' }>): Promise<TaskOutcome> {
  const { ctx, runs, run, task, signal } = call;
  const files = filesOf(def.from, `pipelines.${run.pipeline}.tasks.${task}.from`);
  const lakeRunId = await runs.lakeRunIdOf(run.runId, task, () => newRunId({ kind: 'pipeline' }));
  const key = def.key === undefined ? undefined : Array.isArray(def.key) ? def.key : [def.key];
  const dir = existsSync(ctx.config.transform.dir) ? ctx.config.transform.dir : undefined;
  const result = await publishFiles(
    createTransformDeps(ctx.store, ctx.config, ctx.logger),
    { files, table: parseTableRef(def.table), format: def.format, runId: lakeRunId, ...(key ? { key } : {}), ...(dir ? { transformsDir: dir } : {}) },
    signal,
  );
  if (result.status !== 'published') {
    throw new CorrenteError('TASK_FAILED', `Publishing ${def.table} ${result.status}${result.error ? `: ${result.error}` : ''}`, { runId: lakeRunId, retryable: true });
  }
  return { ...(result.rows !== undefined ? { rows: result.rows } : {}), detail: `${def.table} published as run ${lakeRunId} from ${files.length} file(s)` };
}
