/**
 * Resolves a migration's table selection: expands `core.*`-style patterns against the
 * tables the role can read, and applies the excludes. The catalog is read (in a read-only
 * session, like every read of Postgres) only when some entry is a pattern.
 */
import { expandSelection, selectionNeedsCatalog, type ExpandedSelection, type TableSelection } from '../config/index.js';
import { describeTarget, listReadableTables, mapPgError, openReadSession, type PgPool } from '../postgres/index.js';
import type { TableRef } from '../shared/table-schema.js';

/**
 * @throws CorrenteError `TABLE_NOT_FOUND` for a pattern matching no readable table,
 *   `CONFIG_INVALID` when the excludes leave nothing, or the mapped Postgres error.
 */
export async function resolveSelection(pool: PgPool, postgresUrl: string, selection: TableSelection): Promise<ExpandedSelection> {
  return expandSelection(selection, selectionNeedsCatalog(selection) ? await readableTables(pool, postgresUrl) : []);
}

async function readableTables(pool: PgPool, postgresUrl: string): Promise<TableRef[]> {
  const session = await openReadSession(pool, { target: postgresUrl });
  try {
    return await listReadableTables(session.client).catch((err: unknown) => {
      throw mapPgError(err, describeTarget(postgresUrl));
    });
  } finally {
    await session.close();
  }
}
