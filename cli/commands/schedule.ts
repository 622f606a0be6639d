/**
 * `corrente schedule`: applies the configured schedules (recurring migrations) to the
 * queue and shows when each fires next. Workers run them.
 */
import { applyConfiguredSchedules } from '../../scheduler/apply-schedules.js';
import { assertRedisReachable } from '../../queues/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import type { CliContext } from '../cli-context.js';

export async function scheduleCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  await assertRedisReachable(ctx.config.redis.url);
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const result = await applyConfiguredSchedules(runtime);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    if (result.applied.length === 0) process.stdout.write('No schedules configured (add `schedules:` to corrente.yaml).\n');
    for (const s of result.applied) process.stdout.write(`${s.id}: "${s.cron}" (${s.tz}) -> ${s.tables.join(', ')}; next ${s.next.toISOString()}\n`);
    for (const id of result.removed) process.stdout.write(`${id}: removed (no longer configured)\n`);
    return 0;
  });
}
