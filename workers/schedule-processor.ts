/**
 * BullMQ processor for the `schedule` queue: each firing of a schedule starts a
 * migration run of its tables (the nightly refresh), named after the schedule. Table
 * patterns and the configured `exclude:` are resolved against the catalog at each firing.
 */
import type { Job } from 'bullmq';
import { tableSelection } from '../src/config/index.js';
import { scheduledRunId } from '../src/lake/index.js';
import { resolveSelection } from '../src/pipeline/index.js';
import { enqueueMigration, parseJobData, scheduleJobSchema, type ScheduleJobData } from '../queues/index.js';
import type { WorkerContext } from './worker-context.js';

export function createScheduleProcessor(ctx: WorkerContext) {
  return async (job: Job<ScheduleJobData>): Promise<{ runId: string; queued: number }> => {
    const data = parseJobData(scheduleJobSchema, job.data, 'schedule');
    const runId = scheduledRunId(data.scheduleId, new Date(job.timestamp));
    // Patterns (`core.*`) resolve at each firing, so tables added since are included.
    const { targets } = await resolveSelection(ctx.pool, ctx.config.postgres.url, tableSelection(ctx.config, data.tables));
    const enqueued = await enqueueMigration(ctx.queues, ctx.runs, runId, targets);
    ctx.logger.info({ scheduleId: data.scheduleId, runId, tables: targets.length }, 'scheduled migration enqueued');
    return { runId, queued: enqueued.filter((e) => e.added).length };
  };
}
