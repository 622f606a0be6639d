/**
 * `corrente schedule`: the one-shot apply. Applies the configured schedules, the
 * pipelines' (`pipelines.<name>.schedule`) and the older table schedules (`schedules:`,
 * recurring migrations), as BullMQ job schedulers, removes ones no longer configured, and
 * shows when each fires next. Workers run them. `corrente scheduler` does the same at
 * start and on every config change, and also catches up missed intervals.
 */
import { applySchedules } from '../../scheduler/apply-schedules.js';
import { applyPipelineSchedules } from '../../scheduler/pipeline-scheduler.js';
import { assertRedisReachable, queueRuntime } from '../../queues/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import type { CliContext } from '../cli-context.js';

export async function scheduleCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  await assertRedisReachable(ctx.config.redis.url);
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const queues = await queueRuntime(runtime).queues();
    const result = await applySchedules(queues, ctx.config.schedules);
    const pipelines = await applyPipelineSchedules(queues, ctx.config.pipelines);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...result, pipelines }, null, 2)}\n`);
      return 0;
    }
    if (result.applied.length === 0 && pipelines.applied.length === 0) process.stdout.write('No schedules configured (add a `schedule:` to a pipeline in corrente.yaml).\n');
    for (const s of pipelines.applied) process.stdout.write(`pipeline ${s.pipeline}: "${s.cron}" (${s.tz}); next ${s.next.toISOString()}\n`);
    for (const p of pipelines.removed) process.stdout.write(`pipeline ${p}: schedule removed (no longer configured)\n`);
    for (const s of result.applied) process.stdout.write(`${s.id}: "${s.cron}" (${s.tz}) -> ${s.tables.join(', ')}; next ${s.next.toISOString()}\n`);
    for (const id of result.removed) process.stdout.write(`${id}: removed (no longer configured)\n`);
    return 0;
  });
}
