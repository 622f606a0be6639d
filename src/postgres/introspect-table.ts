/**
 * Reads a table's columns, types, nullability and primary key from the catalog, and
 * decides each column's Parquet type.
 */
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, type ColumnSpec, type TableRef, type TableSchema } from '../shared/table-schema.js';
import type { PgClient } from './pool.js';
import { tableNotFound } from './table-not-found.js';
import { readTypeDefinitions } from './type-definitions.js';
import { mapPgType } from './type-mapping.js';

/** Per-column overrides from config, by exact column name. */
export type ColumnOverrides = Readonly<Record<string, { as: 'text' }>>;

const FIND_RELATION = `
SELECT c.oid, c.relkind, c.reltuples::float8 AS reltuples,
       has_schema_privilege(n.oid, 'USAGE') AS schema_usage,
       has_table_privilege(c.oid, 'SELECT') AS can_select
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

const LIST_COLUMNS = `
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS pg_type,
       NOT a.attnotnull AS nullable,
       bt.typname, bt.typcategory AS category,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
       ebt.typname AS element_typname, ebt.typcategory AS element_category,
       CASE WHEN et.typtype = 'd' THEN et.typtypmod WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS element_typmod,
       a.attndims AS declared_dims
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
LEFT JOIN pg_type ebt ON ebt.oid = CASE WHEN et.typtype = 'd' THEN et.typbasetype ELSE et.oid END
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

interface ColumnRow {
  name: string;
  pg_type: string;
  nullable: boolean;
  typname: string;
  category: string;
  typmod: number;
  element_typname: string | null;
  element_category: string | null;
  element_typmod: number | null;
  declared_dims: number;
}

const PRIMARY_KEY = `
SELECT a.attname FROM pg_index i
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`;

/**
 * @throws CorrenteError `TABLE_NOT_FOUND` (suggesting the closest existing names)
 *   or `PERMISSION_DENIED` (with the GRANT to run).
 */
export async function introspectTable(client: PgClient, ref: TableRef, overrides: ColumnOverrides = {}): Promise<TableSchema> {
  const shown = formatTableRef(ref);
  const rel = await client.query<{ oid: number; relkind: string; reltuples: number; schema_usage: boolean; can_select: boolean }>(FIND_RELATION, [ref.schema, ref.name]);
  const row = rel.rows[0];
  if (!row) throw await tableNotFound(client, ref);
  if (!row.schema_usage || !row.can_select) {
    const grant = !row.schema_usage ? `GRANT USAGE ON SCHEMA ${quote(ref.schema)} TO <role>` : `GRANT SELECT ON ${quote(ref.schema)}.${quote(ref.name)} TO <role>`;
    throw new CorrenteError('PERMISSION_DENIED', `The export role may not read ${shown}`, { table: shown, hint: `Run as an admin: ${grant}` });
  }
  const cols = await client.query<ColumnRow>(LIST_COLUMNS, [row.oid]);
  if (cols.rows.length === 0) {
    throw new CorrenteError('UNSUPPORTED_VALUE', `${shown} has no columns`, { table: shown, hint: 'Add columns or remove the table from the migration' });
  }
  for (const name of Object.keys(overrides)) {
    if (!cols.rows.some((c) => c.name === name)) {
      throw new CorrenteError('CONFIG_INVALID', `Column override names ${JSON.stringify(name)}, which ${shown} does not have`, {
        table: shown,
        option: `tables[${shown}].columns.${name}`,
        hint: `Use one of: ${cols.rows.map((c) => c.name).join(', ')}`,
      });
    }
  }
  const columns: ColumnSpec[] = cols.rows.map((c) => {
    const base = { name: c.name, pgType: c.pg_type, nullable: c.nullable };
    if (overrides[c.name]?.as === 'text') return { ...base, type: { kind: 'text' }, note: 'configured as text' };
    const decision = mapPgType({
      typname: c.typname,
      typmod: c.typmod,
      category: c.category,
      elementTypname: c.element_typname,
      elementCategory: c.element_category,
      elementTypmod: c.element_typmod,
      declaredDims: c.declared_dims,
    });
    return { ...base, type: decision.type, ...(decision.note ? { note: decision.note } : {}) };
  });
  const pk = await client.query<{ attname: string }>(PRIMARY_KEY, [row.oid]);
  return {
    table: ref,
    columns,
    primaryKey: pk.rows.map((r) => r.attname),
    estimatedRows: row.reltuples >= 0 ? Math.round(row.reltuples) : -1,
    types: await readTypeDefinitions(client, row.oid),
    plainTable: row.relkind === 'r',
  };
}

function quote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
