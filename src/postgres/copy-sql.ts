/**
 * Builds the one COPY statement that streams a table (or a key range of it) as CSV.
 * COPY cannot take bind parameters, so everything in it is either a quoted identifier or
 * a literal produced here from validated values.
 */
import { quoteIdent, type ColumnSpec, type TableSchema } from '../shared/table-schema.js';

/** Session settings that make the text forms deterministic and exact. */
export const EXPORT_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'iso_8601',
  // Shortest exact float output (Postgres >= 12), so floats round-trip bit for bit.
  extra_float_digits: '1',
  bytea_output: 'hex',
};

/** A row filter built by corrente (never from user text). */
export interface RowFilter {
  readonly sql: string;
}

/** SELECT expression that puts one column in the CSV. */
export function projectColumn(col: ColumnSpec): string {
  const c = quoteIdent(col.name);
  if (col.type.kind === 'list') {
    // JSON keeps element quoting unambiguous. Arrays that are not 1-D from index 1 keep
    // their Postgres text form here, which the Parquet side then rejects loudly
    // (a LIST would silently drop the bounds).
    return `CASE WHEN array_ndims(${c}) > 1 OR array_lower(${c}, 1) <> 1 THEN ${c}::text ELSE array_to_json(${c})::text END`;
  }
  return c;
}

export function qualifiedName(schema: TableSchema): string {
  return `${quoteIdent(schema.table.schema)}.${quoteIdent(schema.table.name)}`;
}

/** `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`. NULL is the empty unquoted field, '' is `""`. */
export function buildCopySql(schema: TableSchema, filter?: RowFilter): string {
  const select = schema.columns.map(projectColumn).join(', ');
  const where = filter ? ` WHERE ${filter.sql}` : '';
  return `COPY (SELECT ${select} FROM ${qualifiedName(schema)}${where}) TO STDOUT WITH (FORMAT csv)`;
}
