/**
 * Statements that put a table back from its manifest: the table with its column types
 * and NOT NULL constraints, the primary key (added after the rows are in, which builds
 * the index in one pass), the COPY, and the swap that replaces an existing table.
 */
import { quoteIdent, type ColumnSpec, type TableRef } from '../shared/table-schema.js';

/** `"schema"."name"` */
export function qualifiedRef(ref: TableRef): string {
  return `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`;
}

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;
}

/** `CREATE TABLE` with each column's recorded Postgres type (`format_type` text) and nullability. */
export function createTableSql(ref: TableRef, columns: readonly Pick<ColumnSpec, 'name' | 'pgType' | 'nullable'>[]): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${c.pgType}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE ${qualifiedRef(ref)} (${cols.join(', ')})`;
}

/** Name Postgres gives a table's primary key by default: `<table>_pkey`. */
export function defaultPrimaryKeyName(table: string): string {
  return `${table}_pkey`;
}

/** Without `constraint`, Postgres names it (`<table>_pkey`, shortened to fit 63 bytes). */
export function addPrimaryKeySql(ref: TableRef, columns: readonly string[], constraint?: string): string {
  const named = constraint === undefined ? '' : `CONSTRAINT ${quoteIdent(constraint)} `;
  return `ALTER TABLE ${qualifiedRef(ref)} ADD ${named}PRIMARY KEY (${columns.map(quoteIdent).join(', ')})`;
}

/**
 * `COPY ... FROM STDIN` in CSV: NULL is the empty unquoted field, `""` the empty string.
 * FREEZE writes the rows already frozen (allowed because the table was created in this
 * transaction), which spares the first VACUUM a pass over the whole table.
 */
export function copyInSql(ref: TableRef, columns: readonly string[]): string {
  return `COPY ${qualifiedRef(ref)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN WITH (FORMAT csv, FREEZE)`;
}

/**
 * Replaces `target` by the verified `staged` table (same schema): drops the old table,
 * renames the new one and its primary key to the names the old ones had.
 */
export function swapTablesSql(staged: TableRef, target: TableRef, stagedPrimaryKey: string | undefined): string[] {
  const out = [`DROP TABLE ${qualifiedRef(target)}`, `ALTER TABLE ${qualifiedRef(staged)} RENAME TO ${quoteIdent(target.name)}`];
  if (stagedPrimaryKey) {
    out.push(`ALTER TABLE ${qualifiedRef(target)} RENAME CONSTRAINT ${quoteIdent(stagedPrimaryKey)} TO ${quoteIdent(defaultPrimaryKeyName(target.name))}`);
  }
  return out;
}
