/**
 * Resolves which tables a migration exports, and with which per-table options.
 */
import { CorrenteError } from '../shared/errors.js';
import { isTablePattern } from '../shared/table-pattern.js';
import { parseTableRef, type TableRef } from '../shared/table-schema.js';
import type { IncrementalConfig } from './incremental.js';
import type { Config } from './schema.js';
import { expandSelection, tableSelection } from './table-selection.js';

export interface TableTarget {
  table: TableRef;
  layer: 'bronze' | 'silver' | 'gold';
  columns: Record<string, { as: 'text' }>;
  /** Set when the table is exported incrementally (`tables[].incremental`). */
  incremental?: IncrementalConfig;
}

/**
 * Every configured table, parsed.
 * @throws CorrenteError `CONFIG_INVALID` for a bad name or a pattern (expand those with
 *   `tableSelection` and `expandSelection`).
 */
export function configuredTables(config: Pick<Config, 'tables'>): TableTarget[] {
  return config.tables.map((t) =>
    typeof t === 'string'
      ? { table: parseExactName(t), layer: 'bronze' as const, columns: {} }
      : { table: parseExactName(t.name), layer: t.layer, columns: { ...t.columns }, ...(t.incremental ? { incremental: t.incremental } : {}) },
  );
}

/** `schema.table`, refusing a pattern where one table is meant. */
function parseExactName(text: string): TableRef {
  if (isTablePattern(text)) {
    throw new CorrenteError('CONFIG_INVALID', `${text} is a pattern; name one table here`, {
      hint: 'Patterns (schema.*) select tables for migrate; quote a name that really holds *, e.g. core."a*b"',
    });
  }
  return parseTableRef(text);
}

/**
 * The tables named on the command line, with the options the config gives them (their own
 * `tables:` entry, else the layer of a `tables:` pattern they fit), or all configured
 * tables when none are named.
 * @throws CorrenteError `CONFIG_INVALID` for a bad name, or a pattern where one table is meant.
 */
export function resolveTables(config: Pick<Config, 'tables'>, names?: readonly string[]): TableTarget[] {
  if (!names || names.length === 0) {
    const configured = configuredTables(config);
    if (configured.length === 0) {
      throw new CorrenteError('CONFIG_INVALID', 'No tables to migrate', { hint: 'Pass --tables schema.table,... or list tables in corrente.yaml' });
    }
    return configured;
  }
  for (const name of names) parseExactName(name);
  // Exact names only, so no catalog is needed.
  return expandSelection(tableSelection({ tables: config.tables, exclude: [] }, names), []).targets;
}

/**
 * Splits a `--tables` value on commas that are outside double quotes, so quoted names
 * may contain commas.
 */
export function splitTableList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
