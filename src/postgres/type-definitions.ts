/**
 * The `CREATE TYPE` / `CREATE DOMAIN` statements behind a table's user-defined column
 * types (enums, composites, domains, and arrays of them), so that a restore can recreate
 * them in a database that lacks them. Read in the export's snapshot, recorded in the
 * manifest, dependencies first.
 */
import type { TypeDefinition } from '../shared/table-schema.js';
import type { PgClient } from './pool.js';

interface TypeRow {
  oid: number;
  typtype: string;
  typelem: number;
  typbasetype: number;
  typrelid: number;
  qualified: string;
  base: string | null;
  typnotnull: boolean;
  typdefault: string | null;
  builtin: boolean;
}

const TYPE_INFO = `
SELECT t.oid, t.typtype, t.typelem, t.typbasetype, t.typrelid,
       quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS qualified,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base,
       t.typnotnull, t.typdefault,
       n.nspname IN ('pg_catalog', 'information_schema') AS builtin
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = $1`;

/** Column types that are user-defined, or arrays of such (one query for the common all-builtin table). */
const COLUMN_TYPES = `
SELECT a.atttypid AS oid FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
  AND (t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
       OR e.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace))
ORDER BY a.attnum`;
const ENUM_LABELS = `SELECT coalesce(string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder), '') AS labels FROM pg_enum WHERE enumtypid = $1`;
const COMPOSITE_ATTRIBUTES = `
SELECT quote_ident(attname) AS name, format_type(atttypid, atttypmod) AS type, atttypid AS oid
FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`;
const DOMAIN_CHECKS = `SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contypid = $1 AND contype = 'c' ORDER BY conname`;

/**
 * Definitions of the user-defined types the columns of relation `relationOid` use,
 * each after the types it depends on. Base types from extensions (citext, ...) and
 * ranges are not recreated: the target needs the extension or the type already.
 */
export async function readTypeDefinitions(client: PgClient, relationOid: number): Promise<TypeDefinition[]> {
  const out: TypeDefinition[] = [];
  const seen = new Set<number>();

  const visit = async (oid: number): Promise<void> => {
    if (oid === 0 || seen.has(oid)) return;
    seen.add(oid);
    const t = (await client.query<TypeRow>(TYPE_INFO, [oid])).rows[0];
    if (!t || t.builtin) {
      if (t && t.typelem !== 0) await visit(t.typelem);
      return;
    }
    if (t.typtype === 'b' && t.typelem !== 0) return visit(t.typelem);
    if (t.typtype === 'e') {
      const labels = (await client.query<{ labels: string }>(ENUM_LABELS, [oid])).rows[0]!.labels;
      out.push({ name: t.qualified, kind: 'enum', sql: `CREATE TYPE ${t.qualified} AS ENUM (${labels})` });
    } else if (t.typtype === 'c') {
      const attrs = (await client.query<{ name: string; type: string; oid: number }>(COMPOSITE_ATTRIBUTES, [t.typrelid])).rows;
      for (const a of attrs) await visit(a.oid);
      out.push({ name: t.qualified, kind: 'composite', sql: `CREATE TYPE ${t.qualified} AS (${attrs.map((a) => `${a.name} ${a.type}`).join(', ')})` });
    } else if (t.typtype === 'd') {
      await visit(t.typbasetype);
      const checks = (await client.query<{ name: string; def: string }>(DOMAIN_CHECKS, [oid])).rows;
      const parts = [`CREATE DOMAIN ${t.qualified} AS ${t.base}`];
      if (t.typdefault !== null) parts.push(`DEFAULT ${t.typdefault}`);
      if (t.typnotnull) parts.push('NOT NULL');
      for (const c of checks) parts.push(`CONSTRAINT ${c.name} ${c.def}`);
      out.push({ name: t.qualified, kind: 'domain', sql: parts.join(' ') });
    }
  };

  for (const row of (await client.query<{ oid: number }>(COLUMN_TYPES, [relationOid])).rows) await visit(row.oid);
  return out;
}
