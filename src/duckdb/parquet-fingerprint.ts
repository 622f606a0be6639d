/**
 * The Parquet side of verification: DuckDB reads the written files and computes the same
 * fingerprints Postgres computed over the source (see `src/shared/fingerprint.ts`).
 */
import { HASH_HEX_DIGITS, metricAlias, metricsFor, type FingerprintMetric, type FingerprintOptions, type TableFingerprint } from '../shared/fingerprint.js';
import { quoteIdent, quoteLiteral, type ColumnSpec, type TableSchema } from '../shared/table-schema.js';
import type { DuckSession } from './duckdb-session.js';

function asText(col: ColumnSpec, c: string): string {
  return col.type.kind === 'bytes' ? c : `${c}::VARCHAR`;
}

function metricSql(col: ColumnSpec, metric: FingerprintMetric): string {
  const c = quoteIdent(col.name);
  switch (metric) {
    case 'n':
      return `count(${c})`;
    case 'true':
      return `count(*) FILTER (WHERE ${c})`;
    case 'sum':
      return `sum(${c})`;
    case 'hash':
      return `sum(('0x' || substr(md5(${asText(col, c)}), 1, ${HASH_HEX_DIGITS}))::BIGINT)`;
    case 'len':
      if (col.type.kind === 'list') return `sum(len(${c}))`;
      return col.type.kind === 'bytes' ? `sum(octet_length(${c}))` : `sum(strlen(${asText(col, c)}))`;
    case 'days':
      return `sum(${c} - DATE '1970-01-01') FILTER (WHERE isfinite(${c}))`;
    case 'micros':
      return `sum(epoch_us(${c})) FILTER (WHERE isfinite(${c}))`;
    case 'posinf':
      return `count(*) FILTER (WHERE isinf(${c}) AND ${c} > ${infProbe(col)})`;
    case 'neginf':
      return `count(*) FILTER (WHERE isinf(${c}) AND ${c} < ${infProbe(col)})`;
    case 'nan':
      return `count(*) FILTER (WHERE isnan(${c}))`;
    case 'negzero':
      return `count(*) FILTER (WHERE ${c} = 0 AND signbit(${c}))`;
    case 'min':
      return `min(${c}) FILTER (WHERE isfinite(${c}))`;
    case 'max':
      return `max(${c}) FILTER (WHERE isfinite(${c}))`;
    case 'fsum':
      return `sum(${c}::DOUBLE) FILTER (WHERE isfinite(${c}))`;
  }
}

/** A finite value of the column's type to tell +infinity from -infinity. */
function infProbe(col: ColumnSpec): string {
  switch (col.type.kind) {
    case 'date':
      return `DATE '1970-01-01'`;
    case 'timestamp':
      return `TIMESTAMP '1970-01-01'`;
    case 'timestamptz':
      return `TIMESTAMPTZ '1970-01-01 00:00:00+00'`;
    default:
      return '0';
  }
}

/** One SELECT over all files returning `rows` plus one VARCHAR per metric alias. */
export function buildParquetFingerprintSql(schema: TableSchema, files: readonly string[], options: FingerprintOptions = {}): string {
  const parts = ['count(*)::VARCHAR AS "rows"'];
  schema.columns.forEach((col, i) => {
    for (const m of metricsFor(col.type, options)) parts.push(`(${metricSql(col, m)})::VARCHAR AS ${metricAlias(i, m)}`);
  });
  const list = `[${files.map(quoteLiteral).join(', ')}]`;
  return `SELECT ${parts.join(', ')} FROM read_parquet(${list}, hive_partitioning = false)`;
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
  const [row] = await session.rows(buildParquetFingerprintSql(schema, files, options), signal);
  schema.columns.forEach((col, i) => {
    columns[col.name] = Object.fromEntries(metricsFor(col.type, options).map((m) => [m, (row?.[metricAlias(i, m)] as string | null) ?? null]));
  });
  return { rows: String(row?.rows ?? '0'), columns };
}

function isCount(m: FingerprintMetric): boolean {
  return m === 'true' || m === 'posinf' || m === 'neginf' || m === 'nan' || m === 'negzero';
}
