/**
 * A quick DuckDB query over the current run of one lake table, bound as the view `t`:
 * what `demo` prints, and a check in tests. Remote files go through the transform cache.
 */
import { openDuckSession, parquetRelation, duckType } from '../duckdb/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { TableRef } from '../shared/table-schema.js';
import type { Layer } from './export-types.js';
import { currentRun, localFilesOf, type InputDeps } from './transform-inputs.js';

/** Rows of `select` (which reads `t`) over the current run of `table` in `layer`; values as DuckDB returns them to JS. */
export async function queryCurrent(deps: InputDeps, layer: Layer, table: TableRef, select: string, signal?: AbortSignal): Promise<{ runId: string; files: string[]; rows: Record<string, unknown>[] }> {
  const manifest = await currentRun(deps, layer, table, signal);
  if (!manifest) {
    throw new CorrenteError('RUN_NOT_FOUND', `${layer}/${table.schema}/${table.name} has no published run`, { hint: 'Publish it first (corrente migrate, or corrente transform for a model)' });
  }
  const input = await localFilesOf(deps, layer, manifest, signal);
  const duck = await openDuckSession({ threads: 2 });
  try {
    const empty = manifest.columns.map((c) => ({ name: c.name, duckType: duckType(c.type) }));
    await duck.run(`CREATE TEMP VIEW t AS SELECT * FROM ${parquetRelation(input.paths, empty)}`, signal);
    return { runId: manifest.runId, files: input.paths, rows: await duck.rows(select, signal) };
  } finally {
    duck.close();
  }
}
