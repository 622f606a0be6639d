/**
 * The way back: DuckDB reads Parquet files written by an export and writes CSV in exactly
 * the text form Postgres' `COPY ... FROM STDIN (FORMAT csv)` reads into the original column
 * types (BC dates, ±infinity, NaN and -0 floats, bytea hex, LISTs as array literals).
 */
import { quoteIdent, quoteLiteral, type ColumnSpec, type LogicalType, type TableSchema } from '../shared/table-schema.js';
import type { DuckSession } from './duckdb-session.js';

/**
 * Postgres input text of a non-list value `v` of type `t`. DuckDB renders BC dates as
 * `0044-03-15 (BC)` and BC timestamps as `0044-03-15 (BC) 12:00:00`; Postgres reads
 * `0044-03-15 BC 12:00:00`. Floats print shortest-exact (`nan`, `inf`, `-0.0`, `5e-324`),
 * which Postgres reads back bit for bit.
 */
function scalarText(t: LogicalType, v: string): string {
  switch (t.kind) {
    case 'bytes':
      return `('\\x' || lower(hex(${v})))`;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return `replace(${v}::VARCHAR, ' (BC)', ' BC')`;
    default:
      return `${v}::VARCHAR`;
  }
}

/** Nesting depth of a list type (manifests before multi-dimensional lists have none: 1). */
function depth(t: LogicalType & { kind: 'list' }): number {
  return (t as { dims?: number }).dims ?? 1;
}

/**
 * A LIST as a Postgres array literal: every element double-quoted (with `\` and `"`
 * escaped), NULL elements as bare `NULL`, one level of braces per dimension.
 */
function listText(t: LogicalType & { kind: 'list' }, v: string): string {
  const dims = depth(t);
  const element = `CASE WHEN e IS NULL THEN 'NULL' ELSE '"' || replace(replace(${scalarText(t.element as LogicalType, 'e')}, '\\', '\\\\'), '"', '\\"') || '"' END`;
  let body = element;
  for (let d = dims; d >= 1; d--) {
    const input = d === 1 ? v : `l${d - 1}`;
    const param = d === dims ? 'e' : `l${d}`;
    body = `'{' || array_to_string(list_transform(${input}, lambda ${param}: ${body}), ',') || '}'`;
  }
  return body;
}

/** Expression giving the Postgres input text of one column (NULL stays NULL). */
export function pgTextExpr(col: ColumnSpec): string {
  const c = quoteIdent(col.name);
  return col.type.kind === 'list' ? `CASE WHEN ${c} IS NULL THEN NULL ELSE ${listText(col.type, c)} END` : scalarText(col.type, c);
}

/**
 * Kinds whose text can be empty or look like COPY's end marker; they are always quoted so
 * `''` (written `""`) stays apart from NULL (an empty unquoted field).
 */
const QUOTED_KINDS = new Set(['text', 'json', 'list']);

/**
 * `COPY (SELECT <text of each column> FROM read_parquet(...)) TO 'out.csv'`: CSV with NULL
 * as the empty unquoted field, `""` for empty strings, quotes doubled.
 */
export function buildParquetToPgCsvSql(schema: TableSchema, parquetPaths: readonly string[], csvPath: string): string {
  return buildRelationToPgCsvSql(schema, `read_parquet([${parquetPaths.map(quoteLiteral).join(', ')}], hive_partitioning = false)`, csvPath);
}

/** {@link buildParquetToPgCsvSql} over any relation, e.g. the merged state of an incrementally exported table. */
function buildRelationToPgCsvSql(schema: TableSchema, relation: string, csvPath: string): string {
  const select = schema.columns.map((c, i) => `${pgTextExpr(c)} AS c${i}`).join(', ');
  const quoted = schema.columns.flatMap((c, i) => (QUOTED_KINDS.has(c.type.kind) ? [`c${i}`] : []));
  return (
    `COPY (SELECT ${select} FROM ${relation}) TO ${quoteLiteral(csvPath)} ` +
    `(FORMAT csv, HEADER false, DELIMITER ',', QUOTE '"', ESCAPE '"', NULLSTR ''${quoted.length > 0 ? `, FORCE_QUOTE (${quoted.join(', ')})` : ''})`
  );
}

/** Writes the rows of the given Parquet files as Postgres-readable CSV; returns the row count. */
export async function writePgCsvFromParquet(session: DuckSession, schema: TableSchema, parquetPaths: readonly string[], csvPath: string, signal?: AbortSignal): Promise<number> {
  const rows = await session.rows(buildParquetToPgCsvSql(schema, parquetPaths, csvPath), signal);
  return Number(rows[0]?.Count ?? rows[0]?.count ?? 0);
}

/**
 * Writes the rows of `relation` (a parenthesised SELECT such as `latestRowsSql`) as
 * Postgres-readable CSV; returns the row count.
 */
export async function writePgCsvFromRelation(session: DuckSession, schema: TableSchema, relation: string, csvPath: string, signal?: AbortSignal): Promise<number> {
  const rows = await session.rows(buildRelationToPgCsvSql(schema, relation, csvPath), signal);
  return Number(rows[0]?.Count ?? rows[0]?.count ?? 0);
}
