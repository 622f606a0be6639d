/**
 * Starts a migration run: records it and enqueues one export per table. Tables already
 * being exported by another run are marked skipped rather than exported twice.
 */
import type { TableRef } from '../src/shared/table-schema.js';
import { enqueueExports, type CorrenteQueues, type EnqueuedExport, type EnqueueExportsOptions } from './queues.js';
import type { ExportJobData } from './jobs.js';
import { TableRun } from './run-lifecycle.js';
import type { RunStore } from './run-store.js';

export interface MigrationTarget {
  table: TableRef;
  layer: 'bronze' | 'silver' | 'gold';
  columns: Record<string, { as: 'text' }>;
  /** `tables[].incremental` (see `ExportJobData.incremental`). */
  incremental?: ExportJobData['incremental'];
}

export interface MigrationOptions extends EnqueueExportsOptions {
  /** Export incremental tables in full (`--full-refresh`). */
  fullRefresh?: boolean;
}

export async function enqueueMigration(
  queues: CorrenteQueues,
  runs: RunStore,
  runId: string,
  targets: readonly MigrationTarget[],
  options: MigrationOptions = {},
): Promise<EnqueuedExport[]> {
  await runs.createRun(runId, targets.map((t) => t.table));
  const enqueued = await enqueueExports(
    queues,
    targets.map((t) => ({
      runId,
      table: t.table,
      layer: t.layer,
      ...(Object.keys(t.columns).length ? { columns: t.columns } : {}),
      ...(t.incremental ? { incremental: t.incremental } : {}),
      ...(options.fullRefresh && t.incremental ? { fullRefresh: true } : {}),
    })),
    options.alsoHeldBy ? { alsoHeldBy: options.alsoHeldBy } : {},
  );
  for (const e of enqueued.filter((x) => !x.added && x.existingRunId !== runId)) {
    await new TableRun(runs, runId, e.table).skipped(e.existingRunId);
  }
  return enqueued;
}
