/**
 * `corrente transform` without `--inline`: the run is recorded in Redis and each selected
 * model becomes a job on the `transform` queue, added once the models it reads are
 * published (queues/transform-runs.ts); `corrente worker` processes on any machine build
 * them. With `--wait`, follows the run model by model and reports it as an inline run.
 */
import { assertInputsPublished, createTransformDeps, needsOf, skippedOutcome, type TransformModelOutcome, type TransformPlan, type TransformRunResult } from '../../src/pipeline/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { assertRedisReachable, openPipelineRuns, queueRuntime, queueTransformRun, TRANSFORM_PIPELINE, waitForDagRun, type PipelineRunRecord, type TaskRecord } from '../../queues/index.js';
import type { CliContext } from '../cli-context.js';
import { finishRun, outcomeLines, startedLine } from './transform-report.js';

export interface QueuedTransformOptions {
  runId: string;
  fullRefresh: boolean;
  wait: boolean;
  json: boolean;
}

/** A model's outcome from its task: the worker's report, or why it never ran. */
function outcomeOf(plan: TransformPlan, run: PipelineRunRecord, name: string): TransformModelOutcome {
  const task: TaskRecord | undefined = run.tasks[name];
  // (A retried run keeps the previous generation's result until the model runs again.)
  if (task?.result && (task.state === 'succeeded' || task.state === 'failed')) return task.result as unknown as TransformModelOutcome;
  const def = plan.graph.project.models.get(name)!;
  if (task?.state === 'skipped') {
    // As an inline run says it: the first input that was not published.
    const bad = needsOf(plan, name).find((n) => run.tasks[n]?.state !== 'succeeded') ?? '?';
    return skippedOutcome(def, run.runId, bad);
  }
  return { model: name, layer: def.layer, file: def.file, status: 'skipped', runId: run.runId, tests: [], error: task?.error?.message ?? `model ${name} ${task?.state ?? 'not run'}` };
}

/** Queues the run; with `wait`, follows it. Returns the exit code. */
export async function runQueued(ctx: CliContext, plan: TransformPlan, options: QueuedTransformOptions): Promise<number> {
  const { config } = ctx;
  await assertRedisReachable(config.redis.url);
  return withRuntime(config, ctx.logger, async (runtime) => {
    // Before anything is queued: every source exported, every model read outside the selection built.
    await assertInputsPublished(createTransformDeps(await runtime.store(), config, ctx.logger), plan);
    const q = queueRuntime(runtime);
    const runs = await openPipelineRuns(q, config, ctx.logger);
    const t0 = performance.now();
    const queued = await queueTransformRun(runs, options.runId, plan.models.map((name) => ({ name, needs: needsOf(plan, name) })), { fullRefresh: options.fullRefresh });
    const human = options.json ? process.stderr : process.stdout;
    human.write(`transform run ${options.runId}: ${plan.models.length} model(s) queued${options.fullRefresh ? ' (full refresh)' : ''}${queued.outcome === 'exists' ? ' (already queued: following it)' : ''}\n`);
    if (queued.run.state === 'queued') {
      const { active } = await runs.store.admission(TRANSFORM_PIPELINE);
      human.write(`  waiting for transform run ${active?.replace(/#\d+$/, '') ?? '?'} to finish: transform runs run one at a time\n`);
    }
    if ((await (await q.queues()).transform.getWorkersCount()) === 0) process.stderr.write('corrente: no worker serves the transform queue yet; the models run when one starts (corrente worker), or run them here with --inline\n');
    if (!options.wait) {
      if (options.json) process.stdout.write(`${JSON.stringify({ runId: options.runId, queued: plan.models })}\n`);
      return 0;
    }
    const shown = new Map<string, string>();
    const run = await waitForDagRun(runs.store, options.runId, {
      onUpdate: (r) => {
        if (options.json) return;
        for (const name of plan.models) {
          const state = r.tasks[name]?.state ?? 'pending';
          if (shown.get(name) === state) continue;
          shown.set(name, state);
          const def = plan.graph.project.models.get(name)!;
          if (state === 'running') process.stdout.write(startedLine({ layer: def.layer, model: name }));
          else if (['succeeded', 'failed', 'skipped', 'cancelled'].includes(state)) process.stdout.write(outcomeLines(outcomeOf(plan, r, name)));
        }
      },
    });
    const models = plan.models.map((name) => outcomeOf(plan, run, name));
    const result: TransformRunResult = { runId: options.runId, models, ok: models.every((m) => m.status === 'published' || m.status === 'up-to-date'), seconds: (performance.now() - t0) / 1000 };
    return finishRun(result, options.json);
  });
}
