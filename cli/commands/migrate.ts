/**
 * `corrente migrate`: checks the tables, enqueues one export job per table, and
 * optionally runs a worker in-process (`--inline`) and follows the run (`--wait`).
 */
import { randomBytes } from 'node:crypto';
import { resolveTables, splitTableList } from '../../src/config/index.js';
import { preflightTables } from '../../src/pipeline/index.js';
import { createPgPool } from '../../src/postgres/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import { assertRedisReachable, enqueueMigration, type RunStatus } from '../../queues/index.js';
import { startWorkers } from '../../workers/start-workers.js';
import { createWorkerContext } from '../../workers/worker-context.js';
import type { CliContext } from '../cli-context.js';
import { LiveProgress, StateChangePrinter, rate, summaryTable } from '../render.js';
import { waitForRun } from '../wait-for-run.js';

export interface MigrateFlags {
  tables?: string;
  wait?: boolean;
  inline?: boolean;
  json?: boolean;
  runId?: string;
}

/** Sortable, URL- and key-safe: `20261126T105300Z-3f9a`. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

/** The machine-readable result of a run (`--json`). */
export function runResultJson(run: RunStatus): object {
  return {
    runId: run.runId,
    ok: run.tables.every((t) => t.state === 'published' || t.state === 'skipped'),
    tables: run.tables.map((t) => ({
      table: formatTableRef(t.table),
      state: t.state,
      rows: t.rows,
      bytes: t.bytes,
      files: t.uris ?? [],
      checksums: t.checksums ?? [],
      verification: t.verification ?? null,
      exportSeconds: t.exportSeconds ?? null,
      verifySeconds: t.verifySeconds ?? null,
      rowsPerSecond: t.exportSeconds ? Math.round(rate(t)) : null,
      stages: t.stages ?? null,
      ...(t.error ? { error: t.error } : {}),
    })),
  };
}

/** Returns the process exit code. */
export async function migrateCommand(ctx: CliContext, flags: MigrateFlags): Promise<number> {
  const { config, logger } = ctx;
  const targets = resolveTables(config, flags.tables ? splitTableList(flags.tables) : undefined);
  if (flags.runId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(flags.runId)) {
    throw new CorrenteError('CONFIG_INVALID', `--run-id ${JSON.stringify(flags.runId)} is not a valid run id`, { hint: 'Use 1-64 letters, digits, dots, dashes or underscores' });
  }
  await assertRedisReachable(config.redis.url);
  // Front-door checks: every table readable and every target bucket usable, before anything is queued.
  const pool = createPgPool(config.postgres, logger);
  const store = createObjectStore(config.storage);
  try {
    await preflightTables(pool, config.postgres.url, targets.map((t) => t.table));
    for (const layer of new Set(targets.map((t) => t.layer))) await store.ensureBucket(config.storage.buckets[layer]);
  } finally {
    await pool.end();
    await store.close();
  }
  const worker = createWorkerContext(config, logger);
  let running: Awaited<ReturnType<typeof startWorkers>> | undefined;
  try {
    const runId = flags.runId ?? newRunId();
    const enqueued = await enqueueMigration(worker.queues, worker.runs, runId, targets);
    const human = flags.json ? process.stderr : process.stdout;
    human.write(`run ${runId}: ${enqueued.filter((e) => e.added).length} table(s) queued${enqueued.some((e) => !e.added) ? `, ${enqueued.filter((e) => !e.added).length} already in progress` : ''}\n`);
    if (flags.inline) running = await startWorkers(worker);
    if (!flags.wait && !flags.inline) {
      if (flags.json) process.stdout.write(`${JSON.stringify({ runId, queued: enqueued.map((e) => ({ table: formatTableRef(e.table), added: e.added })) })}\n`);
      return 0;
    }
    const display = human === process.stdout && process.stdout.isTTY ? new LiveProgress(process.stdout) : new StateChangePrinter(human);
    const run = await waitForRun(worker.runs, runId, { onUpdate: (r) => display.render(r) });
    if (flags.json) process.stdout.write(`${JSON.stringify(runResultJson(run), null, 2)}\n`);
    else process.stdout.write(`\n${summaryTable(run)}\n`);
    return run.tables.every((t) => t.state === 'published' || t.state === 'skipped') ? 0 : 1;
  } finally {
    await running?.close();
    await worker.close();
  }
}
