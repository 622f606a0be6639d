/**
 * The Parquet side of verification: DuckDB reads the written files and computes the same
 * fingerprints Postgres computed over the source (defined in `src/shared/fingerprint-metrics.ts`).
 */
import { metricAlias, metricsFor, type FingerprintMetric, type FingerprintOptions, type TableFingerprint } from '../shared/fingerprint.js';
import { metricSql } from '../shared/fingerprint-metrics.js';
import { quoteLiteral, type TableSchema } from '../shared/table-schema.js';
import type { DuckSession } from './duckdb-session.js';

/** One SELECT over all files returning `rows` plus one VARCHAR per metric alias. */
export function buildParquetFingerprintSql(schema: TableSchema, files: readonly string[], options: FingerprintOptions = {}): string {
  return buildRelationFingerprintSql(schema, `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`, options);
}

/** The fingerprint SELECT over any relation (`FROM <relation>`), e.g. a merged lake state. */
function buildRelationFingerprintSql(schema: TableSchema, relation: string, options: FingerprintOptions): string {
  const parts = ['count(*)::VARCHAR AS "rows"'];
  schema.columns.forEach((col, i) => {
    for (const m of metricsFor(col.type, options)) parts.push(`(${metricSql('duckdb', col, m)})::VARCHAR AS ${metricAlias(i, m)}`);
  });
  return `SELECT ${parts.join(', ')} FROM ${relation}`;
}

/** Computes the fingerprint of the given Parquet files (empty list: an empty table). */
export async function fingerprintParquet(
  session: DuckSession,
  schema: TableSchema,
  files: readonly string[],
  signal?: AbortSignal,
  options: FingerprintOptions = {},
): Promise<TableFingerprint> {
  const columns: TableFingerprint['columns'] = {};
  if (files.length === 0) {
    for (const col of schema.columns) {
      columns[col.name] = Object.fromEntries(metricsFor(col.type, options).map((m) => [m, m === 'n' || isCount(m) ? '0' : null]));
    }
    return { rows: '0', columns };
  }
  return fingerprintRelation(session, schema, `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`, signal, options);
}

/**
 * The fingerprint of the rows of `relation` (a table function call or a parenthesised
 * SELECT, such as the merged state of an incrementally exported table, `latestRowsSql`).
 */
export async function fingerprintRelation(
  session: DuckSession,
  schema: TableSchema,
  relation: string,
  signal?: AbortSignal,
  options: FingerprintOptions = {},
): Promise<TableFingerprint> {
  const columns: TableFingerprint['columns'] = {};
  const [row] = await session.rows(buildRelationFingerprintSql(schema, relation, options), signal);
  schema.columns.forEach((col, i) => {
    columns[col.name] = Object.fromEntries(metricsFor(col.type, options).map((m) => [m, (row?.[metricAlias(i, m)] as string | null) ?? null]));
  });
  return { rows: String(row?.rows ?? '0'), columns };
}

/** Counts are 0 over no rows; sums, min and max are NULL. */
function isCount(m: FingerprintMetric): boolean {
  return m === 'true' || m === 'posinf' || m === 'neginf' || m === 'nan' || m === 'negzero';
}
