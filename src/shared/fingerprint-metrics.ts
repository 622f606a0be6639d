/**
 * Every verification metric in both dialects, side by side: the Postgres form runs over
 * the source snapshot, the DuckDB form over the written Parquet, and the two must agree
 * value for value on an exact copy. A new metric or type is added here, in one place.
 */
import { baseMetric, HASH_HEX_DIGITS, type FingerprintMetric, type ScalarMetric } from './fingerprint.js';
import { listDims, quoteIdent, type ColumnSpec, type ListType, type ScalarType } from './table-schema.js';

export type Dialect = 'postgres' | 'duckdb';

/** A metric's SQL per dialect, given the column and its quoted expression `c`. */
export type MetricForms = Readonly<Record<Dialect, (col: ColumnSpec, c: string) => string>>;

/** Postgres types whose `::text` cast is exactly their output (COPY) form. */
const CAST_IS_OUTPUT = new Set(['text', 'json', 'jsonb', 'uuid']);

/**
 * Postgres: the text whose md5/length is taken; must equal DuckDB's VARCHAR of the stored
 * value. For some types the cast differs from the output COPY writes (bpchar drops its
 * padding, inet adds a netmask), so those go through format(), which uses the output
 * function. format() turns NULL into '', hence the CASE; it tests `num_nulls`, not
 * `IS NULL`, because a composite whose fields are all NULL "IS NULL" in SQL yet is a
 * value (`(,)`), not the column's NULL.
 */
function pgText(col: ColumnSpec, c: string): string {
  if (col.type.kind === 'bytes') return c;
  const base = col.pgType.replace(/\(.*$/, '');
  if (CAST_IS_OUTPUT.has(base) || col.type.kind !== 'text' || /^character varying/.test(col.pgType)) return `${c}::text`;
  return `CASE WHEN num_nulls(${c}) = 1 THEN NULL ELSE format('%s', ${c}) END`;
}

/** DuckDB: the stored value as text (bytes stay binary, as md5/octet_length take them). */
function duckText(col: ColumnSpec, c: string): string {
  return col.type.kind === 'bytes' ? c : `${c}::VARCHAR`;
}

function pgFinite(c: string): string {
  return `${c} <> 'NaN' AND ${c} <> 'infinity' AND ${c} <> '-infinity'`;
}

/** DuckDB: a finite value of the column's type, to tell +infinity from -infinity. */
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

/** DuckDB: a list column flattened to its elements (one `flatten` per extra dimension). */
function duckFlat(t: ListType, c: string): string {
  let out = c;
  for (let d = 1; d < listDims(t); d++) out = `flatten(${out})`;
  return out;
}

/** The forms of each scalar metric. `len` of a list is its element count, NULL elements included. */
export const METRIC_FORMS: Readonly<Record<ScalarMetric, MetricForms>> = {
  n: { postgres: (_, c) => `count(${c})`, duckdb: (_, c) => `count(${c})` },
  true: { postgres: (_, c) => `count(*) FILTER (WHERE ${c})`, duckdb: (_, c) => `count(*) FILTER (WHERE ${c})` },
  sum: { postgres: (_, c) => `sum(${c})::numeric`, duckdb: (_, c) => `sum(${c})` },
  hash: {
    postgres: (col, c) => `sum(('x' || substr(md5(${pgText(col, c)}), 1, ${HASH_HEX_DIGITS}))::bit(${HASH_HEX_DIGITS * 4})::int8)`,
    duckdb: (col, c) => `sum(('0x' || substr(md5(${duckText(col, c)}), 1, ${HASH_HEX_DIGITS}))::BIGINT)`,
  },
  len: {
    postgres: (col, c) => (col.type.kind === 'list' ? `sum(cardinality(${c}))` : `sum(octet_length(${pgText(col, c)}))`),
    duckdb: (col, c) => {
      if (col.type.kind === 'list') return `sum(len(${duckFlat(col.type, c)}))`;
      return col.type.kind === 'bytes' ? `sum(octet_length(${c}))` : `sum(strlen(${duckText(col, c)}))`;
    },
  },
  days: {
    postgres: (_, c) => `sum(${c} - DATE '1970-01-01') FILTER (WHERE isfinite(${c}))`,
    duckdb: (_, c) => `sum(${c} - DATE '1970-01-01') FILTER (WHERE isfinite(${c}))`,
  },
  micros: {
    // Scaled once on the aggregate: extract() is exact (numeric) and the sum stays exact.
    postgres: (_, c) => `(sum(extract(epoch FROM ${c})) FILTER (WHERE isfinite(${c}))) * 1000000`,
    duckdb: (_, c) => `sum(epoch_us(${c})) FILTER (WHERE isfinite(${c}))`,
  },
  posinf: {
    postgres: (_, c) => `count(*) FILTER (WHERE ${c} = 'infinity')`,
    duckdb: (col, c) => `count(*) FILTER (WHERE isinf(${c}) AND ${c} > ${infProbe(col)})`,
  },
  neginf: {
    postgres: (_, c) => `count(*) FILTER (WHERE ${c} = '-infinity')`,
    duckdb: (col, c) => `count(*) FILTER (WHERE isinf(${c}) AND ${c} < ${infProbe(col)})`,
  },
  nan: { postgres: (_, c) => `count(*) FILTER (WHERE ${c} = 'NaN')`, duckdb: (_, c) => `count(*) FILTER (WHERE isnan(${c}))` },
  negzero: {
    postgres: (col, c) => {
      const float = col.type.kind === 'float32' ? 'float4' : 'float8';
      return `count(*) FILTER (WHERE ${c} = 0 AND ${float}send(${c}) <> ${float}send(0::${float}))`;
    },
    duckdb: (_, c) => `count(*) FILTER (WHERE ${c} = 0 AND signbit(${c}))`,
  },
  min: { postgres: (_, c) => `min(${c}) FILTER (WHERE ${pgFinite(c)})`, duckdb: (_, c) => `min(${c}) FILTER (WHERE isfinite(${c}))` },
  max: { postgres: (_, c) => `max(${c}) FILTER (WHERE ${pgFinite(c)})`, duckdb: (_, c) => `max(${c}) FILTER (WHERE isfinite(${c}))` },
  fsum: {
    postgres: (_, c) => `sum(${c}::float8) FILTER (WHERE ${pgFinite(c)})`,
    duckdb: (_, c) => `sum(${c}::DOUBLE) FILTER (WHERE isfinite(${c}))`,
  },
};

/** The column an element metric aggregates: one element, typed as the list's element. */
function elementColumn(col: ColumnSpec, element: ScalarType): ColumnSpec {
  return { name: 'e', pgType: col.pgType.replace(/(\[\])+$/, ''), nullable: true, type: element };
}

/**
 * SQL of one metric of one column in a dialect. An element metric (`e_*`) aggregates each
 * row's elements in a subquery and sums the per-row results (every element metric is a
 * count or a sum, so per-row subtotals add up).
 */
export function metricSql(dialect: Dialect, col: ColumnSpec, metric: FingerprintMetric): string {
  const c = quoteIdent(col.name);
  const base = baseMetric(metric);
  if (base === metric) return METRIC_FORMS[base][dialect](col, c);
  if (col.type.kind !== 'list') throw new Error(`element metric ${metric} on non-list column ${col.name}`);
  const e = elementColumn(col, col.type.element);
  const inner = METRIC_FORMS[base][dialect](e, quoteIdent(e.name));
  // Postgres: unnest in the select list, so an array of composites yields one column of
  // composites rather than one column per field.
  const from = dialect === 'postgres' ? `(SELECT unnest(${c}) AS ${quoteIdent(e.name)}) AS u` : `unnest(${duckFlat(col.type, c)}) AS u(${quoteIdent(e.name)})`;
  return `sum((SELECT ${inner} FROM ${from}))`;
}
