/**
 * The tables a selector pattern (`core.*`) may pick: tables, partitioned tables, views and
 * materialized views the connected role can SELECT, in schemas it may use. Partitions are
 * left out (their parent holds their rows), and so are the system schemas.
 */
import type { TableRef } from '../shared/table-schema.js';
import type { PgClient } from './pool.js';

const READABLE_TABLES = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p','v','m') AND NOT c.relispartition
  AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
  AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`;

/** @returns every readable relation, ordered by schema then name. */
export async function listReadableTables(client: PgClient): Promise<TableRef[]> {
  return (await client.query<{ schema: string; name: string }>(READABLE_TABLES)).rows.map((r) => ({ schema: r.schema, name: r.name }));
}
