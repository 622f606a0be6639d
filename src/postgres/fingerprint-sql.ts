/**
 * The Postgres side of verification: one aggregate query computing every column's
 * fingerprint over the export snapshot. Definitions mirror the DuckDB side in
 * `src/duckdb/parquet-fingerprint.ts`.
 */
import { HASH_HEX_DIGITS, metricAlias, metricsFor, type FingerprintMetric, type FingerprintOptions, type TableFingerprint } from '../shared/fingerprint.js';
import { quoteIdent, type ColumnSpec, type TableSchema } from '../shared/table-schema.js';
import { qualifiedName, type RowFilter } from './copy-sql.js';

/** Types whose `::text` cast is exactly their output (COPY) form. */
const CAST_IS_OUTPUT = new Set(['text', 'json', 'jsonb', 'uuid']);

/**
 * The text whose md5 the `hash` metric sums; must equal DuckDB's VARCHAR of the stored
 * value. For some types the cast differs from the output COPY writes (bpchar drops its
 * padding, inet adds a netmask), so those go through format(), which uses the output
 * function (and turns NULL into '', hence the CASE).
 */
function hashedText(col: ColumnSpec, c: string): string {
  if (col.type.kind === 'bytes') return c;
  const base = col.pgType.replace(/\(.*$/, '');
  if (CAST_IS_OUTPUT.has(base) || col.type.kind !== 'text' || /^character varying/.test(col.pgType)) return `${c}::text`;
  return `CASE WHEN ${c} IS NULL THEN NULL ELSE format('%s', ${c}) END`;
}

function finite(c: string): string {
  return `${c} <> 'NaN' AND ${c} <> 'infinity' AND ${c} <> '-infinity'`;
}

function metricSql(col: ColumnSpec, metric: FingerprintMetric): string {
  const c = quoteIdent(col.name);
  const float = col.type.kind === 'float32' ? 'float4' : 'float8';
  switch (metric) {
    case 'n':
      return `count(${c})`;
    case 'true':
      return `count(*) FILTER (WHERE ${c})`;
    case 'sum':
      return `sum(${c})::numeric`;
    case 'hash':
      return `sum(('x' || substr(md5(${hashedText(col, c)}), 1, ${HASH_HEX_DIGITS}))::bit(${HASH_HEX_DIGITS * 4})::int8)`;
    case 'len':
      return col.type.kind === 'list' ? `sum(cardinality(${c}))` : `sum(octet_length(${hashedText(col, c)}))`;
    case 'days':
      return `sum(${c} - DATE '1970-01-01') FILTER (WHERE isfinite(${c}))`;
    case 'micros':
      // Scaled once on the aggregate: extract() is exact (numeric) and the sum stays exact.
      return `(sum(extract(epoch FROM ${c})) FILTER (WHERE isfinite(${c}))) * 1000000`;
    case 'posinf':
      return `count(*) FILTER (WHERE ${c} = 'infinity')`;
    case 'neginf':
      return `count(*) FILTER (WHERE ${c} = '-infinity')`;
    case 'nan':
      return `count(*) FILTER (WHERE ${c} = 'NaN')`;
    case 'negzero':
      return `count(*) FILTER (WHERE ${c} = 0 AND ${float}send(${c}) <> ${float}send(0::${float}))`;
    case 'min':
      return `min(${c}) FILTER (WHERE ${finite(c)})`;
    case 'max':
      return `max(${c}) FILTER (WHERE ${finite(c)})`;
    case 'fsum':
      return `sum(${c}::float8) FILTER (WHERE ${finite(c)})`;
  }
}

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
      if (computedInPostgres(col, m)) parts.push(`(${metricSql(col, m)})::text AS ${metricAlias(i, m)}`);
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
