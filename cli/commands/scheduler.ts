/**
 * `corrente scheduler`: the long-running process that applies the configured schedules
 * (pipelines' and the older `schedules:`) as BullMQ job schedulers, at start and whenever
 * the config file changes, removes ones no longer configured, and on start creates the runs
 * of intervals missed while it was down, per each pipeline's `catchup`. It runs no work
 * (workers do). Any number may run at once: schedules and runs are never duplicated.
 * SIGINT/SIGTERM stop it.
 */
import { configFilePath, loadConfig, type Config } from '../../src/config/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { assertRedisReachable, openPipelineRuns, queueRuntime } from '../../queues/index.js';
import { applySchedules } from '../../scheduler/apply-schedules.js';
import { applyPipelineSchedules, catchUp, watchConfig } from '../../scheduler/pipeline-scheduler.js';
import type { CliContext, GlobalFlags } from '../cli-context.js';

export async function schedulerCommand(ctx: CliContext, flags: GlobalFlags & { pollMs?: number }): Promise<number> {
  await assertRedisReachable(ctx.config.redis.url);
  await withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const q = queueRuntime(runtime);
    const queues = await q.queues();
    const apply = async (config: Readonly<Config>): Promise<void> => {
      const legacy = await applySchedules(queues, config.schedules);
      const pipelines = await applyPipelineSchedules(queues, config.pipelines);
      for (const s of pipelines.applied) ctx.logger.info({ pipeline: s.pipeline, cron: s.cron, tz: s.tz, next: s.next.toISOString() }, 'pipeline schedule applied');
      for (const p of pipelines.removed) ctx.logger.info({ pipeline: p }, 'pipeline schedule removed');
      if (legacy.applied.length || legacy.removed.length) ctx.logger.info({ applied: legacy.applied.map((s) => s.id), removed: legacy.removed }, 'table schedules applied');
      const runs = await openPipelineRuns(q, config, ctx.logger);
      for (const c of await catchUp(runs, config.pipelines)) {
        ctx.logger.info({ pipeline: c.pipeline, runs: c.runs.map((r) => `${r.runId}:${r.outcome}`) }, 'caught up missed intervals');
      }
    };
    await apply(ctx.config);
    const file = configFilePath(flags.config);
    const watcher = watchConfig({
      ...(file ? { configFile: file } : {}),
      reload: () => loadConfig({ ...(file ? { file } : {}), ...(ctx.config.log.level ? { overrides: { log: { level: ctx.config.log.level } } } : {}) }),
      apply,
      ...(flags.pollMs ? { pollMs: flags.pollMs } : {}),
      logger: ctx.logger,
    });
    ctx.logger.info({ configFile: file ?? null, pipelines: Object.keys(ctx.config.pipelines).filter((p) => ctx.config.pipelines[p]!.schedule) }, 'scheduler ready');
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) process.exit(130);
        stopping = true;
        ctx.logger.info({ signal }, 'scheduler stopping');
        resolve();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    await watcher.close();
  });
  return 0;
}
