/**
 * A quick DuckDB query over the current state of one lake table, bound as the view `t`:
 * what `demo` prints, and a check in tests. Remote files go through the transform cache.
 * A table with increments is read merged (`lake-state.ts`).
 */
import { openDuckSession } from '../duckdb/index.js';
import { readCurrentPointer } from '../lake/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { TableRef } from '../shared/table-schema.js';
import type { Layer } from './export-types.js';
import { readTableState, stateRelationSql } from './lake-state.js';
import { currentRun, type InputDeps } from './transform-inputs.js';

/**
 * Rows of `select` (which reads `t`) over the current state of `table` in `layer`; values
 * as DuckDB returns them to JS. `files` are the full run's, `increments` the run ids merged on top.
 */
export async function queryCurrent(
  deps: InputDeps,
  layer: Layer,
  table: TableRef,
  select: string,
  signal?: AbortSignal,
): Promise<{ runId: string; files: string[]; increments: string[]; rows: Record<string, unknown>[] }> {
  const [manifest, pointer] = await Promise.all([currentRun(deps, layer, table, signal), readCurrentPointer(deps.store, deps.buckets[layer], table, signal)]);
  if (!manifest || !pointer) {
    throw new CorrenteError('RUN_NOT_FOUND', `${layer}/${table.schema}/${table.name} has no published run`, { hint: 'Publish it first (corrente migrate, or corrente transform for a model)' });
  }
  const { input, increments } = await readTableState(deps, layer, manifest, pointer, signal);
  const duck = await openDuckSession({ threads: 2 });
  try {
    await duck.run(`CREATE TEMP VIEW t AS SELECT * FROM ${stateRelationSql(input, (increments.at(-1) ?? manifest).columns)}`, signal);
    return { runId: manifest.runId, files: input.paths, increments: increments.map((m) => m.runId), rows: await duck.rows(select, signal) };
  } finally {
    duck.close();
  }
}
