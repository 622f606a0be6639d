/**
 * Checks, before anything is queued, that every table exists and is readable, so bad
 * input fails at the front door with one clear line and nothing is enqueued.
 */
import { introspectTable, mapPgError, openReadSession, describeTarget, type PgPool } from '../postgres/index.js';
import { formatTableRef, type TableRef, type TableSchema } from '../shared/table-schema.js';

/** Introspects each table in one read-only snapshot; throws the first problem found. */
export async function preflightTables(pool: PgPool, postgresUrl: string, tables: readonly TableRef[]): Promise<TableSchema[]> {
  const session = await openReadSession(pool, { target: postgresUrl });
  try {
    const out: TableSchema[] = [];
    for (const t of tables) {
      out.push(await introspectTable(session.client, t).catch((err: unknown) => {
        throw mapPgError(err, describeTarget(postgresUrl), { table: formatTableRef(t) });
      }));
    }
    return out;
  } finally {
    await session.close();
  }
}
