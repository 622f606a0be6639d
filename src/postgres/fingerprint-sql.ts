/**
 * The Postgres side of verification: one aggregate query computing every column's
 * fingerprint over the export snapshot. The metrics are defined, with their DuckDB
 * twins, in `src/shared/fingerprint-metrics.ts`.
 */
import { metricAlias, metricsFor, type FingerprintMetric, type FingerprintOptions, type TableFingerprint } from '../shared/fingerprint.js';
import { metricSql } from '../shared/fingerprint-metrics.js';
import type { ColumnSpec, TableSchema } from '../shared/table-schema.js';
import { qualifiedName, type RowFilter } from './copy-sql.js';

/**
 * A NOT NULL column's non-null count is the row count, so Postgres is not asked for it
 * (measured: dropping the 10 such counts of the fact table makes the query ~20% cheaper).
 * DuckDB still counts the Parquet side, so a NULL there is still caught.
 */
function computedInPostgres(col: ColumnSpec, metric: FingerprintMetric): boolean {
  return metric !== 'n' || col.nullable;
}

/** One SELECT returning `rows` plus one column per metric alias. */
export function buildFingerprintSql(schema: TableSchema, filter?: RowFilter, options: FingerprintOptions = {}): string {
  const parts = ['count(*) AS rows'];
  schema.columns.forEach((col, i) => {
    for (const m of metricsFor(col.type, options)) {
      if (computedInPostgres(col, m)) parts.push(`(${metricSql('postgres', col, m)})::text AS ${metricAlias(i, m)}`);
    }
  });
  const where = filter ? ` WHERE ${filter.sql}` : '';
  return `SELECT ${parts.join(', ')} FROM ${qualifiedName(schema)}${where}`;
}

/** Turns the single result row into a TableFingerprint keyed by column name. */
export function readFingerprintRow(schema: TableSchema, row: Record<string, unknown>, options: FingerprintOptions = {}): TableFingerprint {
  const columns: TableFingerprint['columns'] = {};
  schema.columns.forEach((col, i) => {
    const fp: Record<string, string | null> = {};
    for (const m of metricsFor(col.type, options)) {
      const v = computedInPostgres(col, m) ? row[metricAlias(i, m)] : row.rows;
      fp[m] = v === null || v === undefined ? null : String(v);
    }
    columns[col.name] = fp;
  });
  return { rows: String(row.rows), columns };
}
