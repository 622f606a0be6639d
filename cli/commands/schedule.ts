/**
 * `corrente schedule`: applies the configured schedules (recurring migrations) to the
 * queue and shows when each fires next. Workers run them.
 */
import { applySchedules } from '../../scheduler/apply-schedules.js';
import { assertRedisReachable, createQueues, createRedis } from '../../queues/index.js';
import type { CliContext } from '../cli-context.js';

export async function scheduleCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  await assertRedisReachable(ctx.config.redis.url);
  const redis = createRedis(ctx.config.redis.url);
  const queues = createQueues(redis, ctx.config.redis.prefix, ctx.config.worker);
  try {
    const result = await applySchedules(queues, ctx.config.schedules);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    if (result.applied.length === 0) process.stdout.write('No schedules configured (add `schedules:` to corrente.yaml).\n');
    for (const s of result.applied) process.stdout.write(`${s.id}: "${s.cron}" (${s.tz}) -> ${s.tables.join(', ')}; next ${s.next.toISOString()}\n`);
    for (const id of result.removed) process.stdout.write(`${id}: removed (no longer configured)\n`);
    return 0;
  } finally {
    await queues.close();
    redis.disconnect();
  }
}
