/**
 * `corrente migrate`: checks the tables, enqueues one export job per table, and
 * optionally runs a worker in-process (`--inline`) and follows the run (`--wait`).
 */
import { selectionNeedsCatalog, splitTableList, tableSelection } from '../../src/config/index.js';
import { preflightTables, resolveSelection } from '../../src/pipeline/index.js';
import { assertValidRunId, newRunId } from '../../src/lake/index.js';
import { withRuntime, type Runtime } from '../../src/runtime/index.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import { assertRedisReachable, deleteRunQueues, enqueueMigration, queueRuntime } from '../../queues/index.js';
import { startWorkers } from '../../workers/start-workers.js';
import { createWorkerContext } from '../../workers/worker-context.js';
import type { CliContext } from '../cli-context.js';
import { LiveProgress, StateChangePrinter, summaryTable } from '../render.js';
import { runResultJson } from '../run-result-json.js';
import { waitForRun } from '../wait-for-run.js';

export interface MigrateFlags {
  tables?: string;
  /** Names or patterns to leave out, added to the configured `exclude:`. */
  exclude?: string;
  wait?: boolean;
  inline?: boolean;
  json?: boolean;
  runId?: string;
  /** Export tables configured with `incremental:` in full, restarting their increments. */
  fullRefresh?: boolean;
}

/** Returns the process exit code. */
export async function migrateCommand(ctx: CliContext, flags: MigrateFlags): Promise<number> {
  return withRuntime(ctx.config, ctx.logger, (runtime) => runMigration(runtime, flags));
}

/**
 * `migrate` on a runtime the caller owns (`demo` shares one across its steps). With
 * `inline`, the run gets queues of its own (`runQueueNames`) and this process serves only
 * those: it never takes, runs or aborts another run's or a schedule's jobs.
 */
export async function runMigration(runtime: Runtime, flags: MigrateFlags): Promise<number> {
  const { config } = runtime;
  const selection = tableSelection(config, flags.tables ? splitTableList(flags.tables) : undefined, flags.exclude ? splitTableList(flags.exclude) : []);
  if (flags.runId !== undefined) assertValidRunId(flags.runId);
  await assertRedisReachable(config.redis.url);
  // Front-door checks: every table readable and every target bucket usable, before anything
  // is queued. An inline worker then uses the same pool, and the store does not probe again.
  const [pool, store] = await Promise.all([runtime.pool(), runtime.store()]);
  const { targets, excluded } = await resolveSelection(pool, config.postgres.url, selection);
  const selected = targets.map((t) => formatTableRef(t.table));
  // Patterns and excludes can pick many tables: say which, before anything is queued.
  if (selectionNeedsCatalog(selection) || selection.exclude.length > 0) process.stderr.write(`${describeSelection(selected, excluded.map(formatTableRef))}\n`);
  await preflightTables(pool, config.postgres.url, targets.map((t) => t.table));
  for (const layer of new Set(targets.map((t) => t.layer))) await store.ensureBucket(config.storage.buckets[layer]);
  const q = queueRuntime(runtime);
  const runId = flags.runId ?? newRunId();
  const shared = await q.queues();
  const queues = flags.inline ? await q.runQueues(runId) : shared;
  const runs = await q.runs();
  // On its own queues, an inline run still skips a table a shared run is exporting.
  const enqueued = await enqueueMigration(queues, runs, runId, targets, { ...(flags.inline ? { alsoHeldBy: shared } : {}), ...(flags.fullRefresh ? { fullRefresh: true } : {}) });
  const human = flags.json ? process.stderr : process.stdout;
  human.write(`run ${runId}: ${enqueued.filter((e) => e.added).length} table(s) queued${enqueued.some((e) => !e.added) ? `, ${enqueued.filter((e) => !e.added).length} already in progress` : ''}\n`);
  if (!flags.wait && !flags.inline) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ runId, selected, queued: enqueued.map((e) => ({ table: formatTableRef(e.table), added: e.added })) })}\n`);
    return 0;
  }
  let running: Awaited<ReturnType<typeof startWorkers>> | undefined;
  let finished = false;
  try {
    if (flags.inline) running = await startWorkers(await createWorkerContext(runtime, { queues }), { queues: ['export', 'verify'] });
    const display = human === process.stdout && process.stdout.isTTY ? new LiveProgress(process.stdout) : new StateChangePrinter(human);
    const subscriber = await q.connection('redis of the run watcher');
    const run = await waitForRun(runs, runId, { onUpdate: (r) => display.render(r), subscriber });
    finished = true;
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...runResultJson(run), selected }, null, 2)}\n`);
    else process.stdout.write(`\n${summaryTable(run)}\n`);
    return run.tables.every((t) => t.state === 'published' || t.state === 'skipped') ? 0 : 1;
  } finally {
    await running?.close();
    // A finished run's own queues go; an unfinished one keeps them, so that
    // `migrate --inline --run-id <id>` serves them again and resumes the run.
    if (flags.inline && finished) {
      await deleteRunQueues(queues).catch((err: unknown) => runtime.logger.warn({ runId, err: { message: (err as Error).message } }, 'could not delete the run queues'));
    }
  }
}

/** `selected 3 tables: core.a, core.b, core.c (excluded: core.tmp_x)`. */
export function describeSelection(selected: readonly string[], excluded: readonly string[]): string {
  const tables = `${selected.length} table${selected.length === 1 ? '' : 's'}`;
  return `selected ${tables}: ${selected.join(', ')}${excluded.length > 0 ? ` (excluded: ${excluded.join(', ')})` : ''}`;
}
