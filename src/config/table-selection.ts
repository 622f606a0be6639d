/**
 * Which tables a migration exports when names may be patterns (`core.*`, `core.fact_*`)
 * and `exclude:` patterns leave some out. Built in two steps: {@link tableSelection} reads
 * the config and the command line; {@link expandSelection} resolves the patterns against
 * the tables the role can read (listed by the caller), so this module stays pure.
 */
import { closestNames } from '../shared/closest-names.js';
import { CorrenteError } from '../shared/errors.js';
import { parseTableSelector, type TableSelector } from '../shared/table-pattern.js';
import { formatTableRef, type TableRef } from '../shared/table-schema.js';
import type { Config } from './schema.js';
import type { TableTarget } from './tables.js';

type Layer = TableTarget['layer'];

/** One `tables:` entry or `--tables` name: a table or a pattern, with the layer it goes to. */
export interface SelectionEntry {
  selector: TableSelector;
  /** Layer configured for this entry; unset for command-line names. */
  layer?: Layer;
}

/** A migration's tables before patterns are expanded. */
export interface TableSelection {
  /** In the order written. */
  include: readonly SelectionEntry[];
  /** `exclude:` and `--exclude` selectors: matching tables are left out. */
  exclude: readonly TableSelector[];
  /** Options of the tables `tables:` names exactly (they apply however a table is selected). */
  configured: ReadonlyMap<string, TableTarget>;
  /** Pattern entries of `tables:` with a layer (the first match gives a table its layer). */
  configuredPatterns: readonly SelectionEntry[];
}

/** The outcome of expanding a selection. */
export interface ExpandedSelection {
  targets: TableTarget[];
  /** Tables a pattern or name picked but an exclude left out. */
  excluded: TableRef[];
}

/**
 * Reads the selection: the names given (`--tables`), else every `tables:` entry; the
 * configured `exclude:` plus the given excludes (`--exclude`).
 * @throws CorrenteError `CONFIG_INVALID` for a bad name or pattern, column overrides on a
 *   pattern, or nothing to migrate.
 */
export function tableSelection(config: Pick<Config, 'tables' | 'exclude'>, names?: readonly string[], excludes: readonly string[] = []): TableSelection {
  const configured = new Map<string, TableTarget>();
  const configuredEntries: SelectionEntry[] = [];
  const configuredPatterns: SelectionEntry[] = [];
  config.tables.forEach((t, i) => {
    const entry = typeof t === 'string' ? { name: t, layer: 'bronze' as const, columns: {} } : t;
    const selector = parseTableSelector(entry.name);
    configuredEntries.push({ selector, layer: entry.layer });
    if (selector.exact) {
      const key = formatTableRef(selector.exact);
      const incremental = typeof t === 'string' ? undefined : t.incremental;
      if (!configured.has(key)) configured.set(key, { table: selector.exact, layer: entry.layer, columns: { ...entry.columns }, ...(incremental ? { incremental } : {}) });
      return;
    }
    if (Object.keys(entry.columns).length > 0) {
      throw new CorrenteError('CONFIG_INVALID', `tables[${i}] (${entry.name}): column overrides need an exact table name, not a pattern`, {
        option: `tables[${i}].columns`,
        hint: `List the table itself with its columns, e.g. - name: ${entry.name.replace(/\*/g, 'my_table')}`,
      });
    }
    if (typeof t !== 'string' && t.incremental) {
      throw new CorrenteError('CONFIG_INVALID', `tables[${i}] (${entry.name}): incremental export needs an exact table name, not a pattern`, {
        option: `tables[${i}].incremental`,
        hint: `List each incremental table by name, e.g. - name: ${entry.name.replace(/\*/g, 'my_table')}`,
      });
    }
    configuredPatterns.push({ selector, layer: entry.layer });
  });
  const include = names && names.length > 0 ? names.map((n) => ({ selector: parseTableSelector(n) })) : configuredEntries;
  if (include.length === 0) {
    throw new CorrenteError('CONFIG_INVALID', 'No tables to migrate', { hint: "Pass --tables schema.table,... or 'schema.*', or list tables in corrente.yaml" });
  }
  return { include, exclude: [...config.exclude, ...excludes].map(parseTableSelector), configured, configuredPatterns };
}

/** True when expanding the selection needs the catalog (some entry or exclude is a pattern). */
export function selectionNeedsCatalog(selection: TableSelection): boolean {
  return selection.include.some((e) => !e.selector.exact) || selection.exclude.some((s) => !s.exact);
}

/**
 * Expands the patterns against `readable` (the tables the role can read), drops excluded
 * tables and duplicates, and gives each table its options: its own `tables:` entry, else
 * the layer of the first `tables:` pattern it fits, else bronze. Exact names are kept
 * without checking the catalog (the export's preflight reports them precisely).
 *
 * @throws CorrenteError `TABLE_NOT_FOUND` naming a pattern that matches no readable
 *   table; `CONFIG_INVALID` when the excludes leave nothing.
 */
export function expandSelection(selection: TableSelection, readable: readonly TableRef[]): ExpandedSelection {
  const seen = new Set<string>();
  const targets: TableTarget[] = [];
  const excluded: TableRef[] = [];
  const add = (table: TableRef, layer: Layer | undefined): void => {
    const key = formatTableRef(table);
    if (seen.has(key)) return;
    seen.add(key);
    if (selection.exclude.some((x) => x.matches(table))) {
      excluded.push(table);
      return;
    }
    const own = selection.configured.get(key);
    if (own) targets.push({ ...own, columns: { ...own.columns } });
    else targets.push({ table, layer: layer ?? selection.configuredPatterns.find((p) => p.selector.matches(table))?.layer ?? 'bronze', columns: {} });
  };
  for (const entry of selection.include) {
    if (entry.selector.exact) {
      add(entry.selector.exact, entry.layer);
      continue;
    }
    const matches = readable.filter((t) => entry.selector.matches(t));
    if (matches.length === 0) throw noMatch(entry.selector, readable);
    for (const t of matches) add(t, entry.layer);
  }
  if (targets.length === 0) {
    throw new CorrenteError('CONFIG_INVALID', `Every selected table is excluded (${selection.exclude.map((x) => x.text).join(', ')})`, {
      option: 'exclude',
      hint: 'Narrow the exclude patterns (exclude: in corrente.yaml, --exclude) or select other tables',
    });
  }
  return { targets, excluded };
}

function noMatch(selector: TableSelector, readable: readonly TableRef[]): CorrenteError {
  const schemas = [...new Set(readable.map((t) => t.schema))];
  const check = 'check the pattern (* matches any characters; names are case-sensitive) and that the role may read the tables (GRANT SELECT ON ALL TABLES IN SCHEMA ...)';
  let hint = `${check[0]!.toUpperCase()}${check.slice(1)}`;
  if (selector.schema !== undefined && !schemas.includes(selector.schema)) {
    const guess = closestNames(selector.schema, schemas, 1)[0];
    hint = `The role can read no table in a schema named ${JSON.stringify(selector.schema)}${guess !== undefined ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; ${check}`;
  }
  return new CorrenteError('TABLE_NOT_FOUND', `No table the role can read matches ${selector.text}`, { table: selector.text, hint });
}
