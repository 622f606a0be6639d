/**
 * Resolves a migration's table selection: expands `core.*`-style patterns against the
 * tables the role can read, and applies the excludes. The catalog is read only when some
 * entry is a pattern.
 */
import { expandSelection, selectionNeedsCatalog, type ExpandedSelection, type TableSelection } from '../config/index.js';
import { describeTarget, listReadableTables, mapPgError, type PgPool } from '../postgres/index.js';

/**
 * @throws CorrenteError `TABLE_NOT_FOUND` for a pattern matching no readable table,
 *   `CONFIG_INVALID` when the excludes leave nothing, or the mapped Postgres error.
 */
export async function resolveSelection(pool: PgPool, postgresUrl: string, selection: TableSelection): Promise<ExpandedSelection> {
  const readable = selectionNeedsCatalog(selection)
    ? await listReadableTables(pool).catch((err: unknown) => {
        throw mapPgError(err, describeTarget(postgresUrl));
      })
    : [];
  return expandSelection(selection, readable);
}
