/**
 * `corrente status [run]`: a run's per-table state, or the recent runs.
 */
import { assertRedisReachable, queueRuntime } from '../../queues/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import type { CliContext } from '../cli-context.js';
import { runResultJson } from '../run-result-json.js';
import { summaryTable } from '../render.js';

export async function statusCommand(ctx: CliContext, runId: string | undefined, flags: { json?: boolean }): Promise<number> {
  await assertRedisReachable(ctx.config.redis.url);
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const runs = await queueRuntime(runtime).runs();
    const ids = runId ? [runId] : await runs.recent(10);
    if (ids.length === 0) {
      process.stdout.write(flags.json ? '[]\n' : 'No runs yet. Start one with: corrente migrate --wait\n');
      return 0;
    }
    const found = [];
    for (const id of ids) {
      const run = await runs.get(id);
      if (run) found.push(run);
    }
    if (runId && found.length === 0) throw new CorrenteError('RUN_NOT_FOUND', `Run ${runId} not found`, { runId, hint: 'Run `corrente status` to list recent runs (kept 30 days)' });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(found.map((r) => ({ createdAt: r.createdAt, ...runResultJson(r) })), null, 2)}\n`);
      return 0;
    }
    const [latest, ...older] = found;
    process.stdout.write(`run ${latest!.runId} (created ${latest!.createdAt})\n${summaryTable(latest!)}\n`);
    if (older.length > 0) {
      process.stdout.write('\nearlier runs:\n');
      for (const r of older) {
        const counts = new Map<string, number>();
        for (const t of r.tables) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
        process.stdout.write(`  ${r.runId}  ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
      }
    }
    return 0;
  });
}
