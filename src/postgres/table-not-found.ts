/**
 * The error for a table that is not in the catalog, with the closest existing names as
 * suggestions ("did you mean core.fact_demand_daily?"), whatever the mistake: case, a
 * typo, a swapped pair of letters, a wrong schema.
 */
import { closestNames, joinAlternatives } from '../shared/closest-names.js';
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, type TableRef } from '../shared/table-schema.js';
import type { PgClient } from './pool.js';

/** Every relation a table name could mean, outside the system schemas. */
const RELATION_NAMES = `
SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p','v','m','f') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'`;

/** @returns `TABLE_NOT_FOUND`, hinting at the closest names or at the missing schema. */
export async function tableNotFound(client: PgClient, ref: TableRef): Promise<CorrenteError> {
  const shown = formatTableRef(ref);
  const relations = (await client.query<{ schema: string; name: string }>(RELATION_NAMES)).rows;
  const byKey = new Map(relations.map((r) => [`${r.schema}.${r.name}`, r]));
  const close = closestNames(`${ref.schema}.${ref.name}`, byKey.keys()).map((k) => byKey.get(k)!);
  let hint: string;
  if (close.length > 0) {
    const caseOnly = close.every((c) => c.schema.toLowerCase() === ref.schema.toLowerCase() && c.name.toLowerCase() === ref.name.toLowerCase());
    hint = `Did you mean ${joinAlternatives(close.map(formatTableRef))}?${caseOnly ? ' Names are case-sensitive' : ''}`;
  } else if (!relations.some((r) => r.schema === ref.schema) && !(await schemaExists(client, ref.schema))) {
    hint = `Schema ${JSON.stringify(ref.schema)} does not exist in this database; check DATABASE_URL and the schema name`;
  } else {
    hint = `Check the name, or list tables with: psql -c '\\dt ${ref.schema}.*'`;
  }
  return new CorrenteError('TABLE_NOT_FOUND', `Table ${shown} not found`, { table: shown, hint });
}

async function schemaExists(client: PgClient, schema: string): Promise<boolean> {
  return ((await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0) > 0;
}
